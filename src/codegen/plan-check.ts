import {Ajv} from 'ajv'
import {reportUnusablePatterns, ruleFilePointer} from '../plan/pattern-problems.js'
import {ruleDocument} from '../plan/resolve.js'
import type {JsonSchema, PlanProblem, TrackingPlan} from '../plan/types.js'

interface PlanDocument {
  file: string
  document: JsonSchema
  /** A pointer into the document as a pointer into the file. */
  toFile: (pointer: string) => string
}

/** Every file of the plan as the one JSON Schema it is read as, with its name. */
function planDocuments(plan: TrackingPlan): PlanDocument[] {
  const rules = [...[...plan.events.values()].flatMap((versions) => [...versions.values()]), plan.identify, plan.group, ...Object.values(plan.rules)]
  const documents = rules.flatMap((rule) => (rule ? [{file: rule.file, document: ruleDocument(rule), toFile: ruleFilePointer}] : []))
  return plan.definitions ? [...documents, {...plan.definitions, toFile: (pointer: string) => pointer}] : documents
}

/**
 * What keeps a plan from having a client: a file that is not a JSON Schema, or a pattern the
 * linear-time engine refuses (the --validate client matches patterns as cdp dev does). Checked
 * against the meta-schema, without compiling a validator per rule as `cdp plan validate` does:
 * ajv's compile was two thirds of codegen's time on a 300-event plan (docs/PERFORMANCE.md), and a
 * client needs the plan's types, not its validators. `cdp plan validate` gives every problem.
 */
export function codegenProblems(plan: TrackingPlan): PlanProblem[] {
  // The first error of a file is reported, and the meta-schema's validator runs once per file:
  // neither allErrors nor ajv's code optimisation pays for their compile time here.
  const ajv = new Ajv({strict: false, validateFormats: false, code: {optimize: false}})
  const problems: PlanProblem[] = []
  for (const {file, document, toFile} of planDocuments(plan)) {
    if (!ajv.validateSchema(document)) {
      const first = ajv.errors?.[0]
      problems.push({severity: 'error', file, pointer: first ? toFile(first.instancePath) : undefined, message: `invalid JSON Schema: ${first?.message ?? 'does not follow draft-07'}`})
    }
    reportUnusablePatterns(document, file, '', problems, toFile)
  }
  return problems
}
