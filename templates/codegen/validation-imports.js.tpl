import {Ajv} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {RE2JS} from 're2js'

// ajv-formats is CommonJS: its function is the default export or the module itself.
const addFormats = /** @type {(ajv: Ajv) => Ajv} */ (/** @type {{default?: unknown}} */ (addFormatsModule).default ?? addFormatsModule)
