
/** The plan's rules, checked at run time (generated with --validate). */
const schemas: Record<string, object> = {{schemas}}

/**
 * The plan's patterns and their RE2 translations, as cdp plan codegen made them. ajv matches them
 * with re2js, in time linear in the value, as cdp dev does: a pattern such as "^(a+)+$" would
 * take V8's backtracking engine minutes on a 34-character value and stall the app.
 */
const re2Patterns = new Map<string, string>({{patterns}})

const planRegExp = Object.assign(
  (pattern: string) => {
    const source = re2Patterns.get(pattern)
    if (source === undefined) throw new Error(`The pattern ${JSON.stringify(pattern)} is not in this client: run \`cdp plan codegen\` again.`)
    const re = RE2JS.compile(source)
    return {test: (text: string) => re.test(text), toString: () => `re2:${pattern}`}
  },
  {code: 'planRegExp'},
)

let ajv: Ajv | undefined
const validators = new Map<string, ValidateFunction>()

function validatorFor(event: string): ValidateFunction | undefined {
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

function defaultOnViolation(violation: Violation): void {
  const text = `"${violation.event}" breaks the tracking plan: ${violation.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`
  // No reference to node's types: the same code compiles in a browser project.
  const env = (globalThis as {process?: {env?: Record<string, string | undefined>}}).process?.env
  if (env?.NODE_ENV === 'test') throw new Error(text)
  console.warn(text)
}

function check(options: TrackerOptions, event: string, data: object): void {
  const validate = validatorFor(event)
  if (!validate || validate(data)) return
  const errors = (validate.errors ?? []).map((error) => ({
    path: (error.instancePath.slice(1).replace(/\//g, '.') || 'properties') + ('missingProperty' in error.params ? `.${String(error.params.missingProperty)}` : ''),
    message: error.message ?? error.keyword,
  }))
  ;(options.onViolation ?? defaultOnViolation)({event, errors})
}
