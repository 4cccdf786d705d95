import {Ajv, type ValidateFunction} from 'ajv'
import addFormatsModule from 'ajv-formats'
import {RE2JS} from 're2js'

// ajv-formats is CommonJS: its function is the default export or the module itself.
const addFormats = ((addFormatsModule as unknown as {default?: unknown}).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv
