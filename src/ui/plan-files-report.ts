import chalk from 'chalk'
import {printable} from '../printable.js'
import type {InferResult} from '../services/schema.js'
import type {PlanImportResult} from '../services/plan-transfer.js'
import {renderFileActions} from './file-actions.js'

/** `cdp plan import`: the files written, then how many rules went where. */
export function renderPlanImport(result: PlanImportResult): string {
  const summary = `Imported ${result.rules} rule${result.rules === 1 ? '' : 's'} into ${printable(result.plan)}. Check them with ${chalk.bold('cdp plan validate')}.`
  return [...renderFileActions(result.files), summary].join('\n')
}

/** `cdp plan infer`: the files written, and those skipped with why. */
export function renderPlanInfer(result: InferResult): string {
  return renderFileActions(result.files).join('\n')
}
