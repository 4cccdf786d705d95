/**
 * The plan's rules, checked at run time (generated with --validate).
 * @type {Record<string, object>}
 */
const schemas = {{schemas}}

/**
 * The plan's patterns and their RE2 translations, as cdp plan codegen made them. ajv matches them
 * with re2js, in time linear in the value, as cdp dev does: a pattern such as "^(a+)+$" would
 * take V8's backtracking engine minutes on a 34-character value and stall the app.
 * @type {Map<string, string>}
 */
const re2Patterns = new Map({{patterns}})

const planRegExp = Object.assign(
  /** @param {string} pattern */
  (pattern) => {
    const source = re2Patterns.get(pattern)
    if (source === undefined) throw new Error(`The pattern ${JSON.stringify(pattern)} is not in this client: run \`cdp plan codegen\` again.`)
    const re = RE2JS.compile(source)
    return {test: (/** @type {string} */ text) => re.test(text), toString: () => `re2:${pattern}`}
  },
  {code: 'planRegExp'},
)

/** @type {Ajv | undefined} */
let ajv
/** @type {Map<string, import('ajv').ValidateFunction>} */
const validators = new Map()

/** @param {string} event */
function validatorFor(event) {
  const schema = schemas[event]
  if (!schema) return undefined
  let validate = validators.get(event)
  if (!validate) {
    if (!ajv) {
      ajv = new Ajv({allErrors: true, strict: false, code: {regExp: planRegExp}})
      addFormats(ajv)
    }
    validate = ajv.compile(schema)
    validators.set(event, validate)
  }
  return validate
}

/** @param {Violation} violation */
function defaultOnViolation(violation) {
  const text = `"${violation.event}" breaks the tracking plan: ${violation.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`
  // No reference to node's types: the same code runs in a browser.
  const env = /** @type {{process?: {env?: Record<string, string | undefined>}}} */ (globalThis).process?.env
  if (env?.NODE_ENV === 'test') throw new Error(text)
  console.warn(text)
}

/**
 * @param {TrackerOptions} options
 * @param {string} event
 * @param {object} data
 * @returns {void}
 */
function check(options, event, data) {
  const validate = validatorFor(event)
  if (!validate || validate(data)) return
  const errors = (validate.errors ?? []).map((error) => ({
    path: (error.instancePath.slice(1).replace(/\//g, '.') || 'properties') + ('missingProperty' in error.params ? `.${String(error.params.missingProperty)}` : ''),
    message: error.message ?? error.keyword,
  }))
  ;(options.onViolation ?? defaultOnViolation)({event, errors})
}
