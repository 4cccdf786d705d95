import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {dirFlag} from '../flags.js'
import {violationKinds} from '../plan/violations.js'
import {listViolations} from '../services/events.js'
import {violationRow} from '../services/views.js'
import {defaultEventLimit} from '../query/filter-input.js'
import type {StoredViolation} from '../store/types.js'
import {renderViolationsTable} from '../ui/violations-table.js'

export default class Violations extends BaseCommand {
  static override summary = 'List tracking-plan violations recorded on ingest, newest last.'
  static override description = `Every message cdp dev checks against its source's tracking plan that breaks it is recorded with its messageId, event name, kind, JSON path, what was expected and what came.
Kinds: ${violationKinds.join(', ')}.`
  static override examples = [
    {description: 'The latest violations', command: '<%= config.bin %> violations'},
    {description: 'Wrong types in Order Completed in the last hour', command: '<%= config.bin %> violations --event "Order Completed" --kind wrong_type --since 1h'},
    {description: 'Unplanned events as JSON', command: '<%= config.bin %> violations --kind unplanned_event --json'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    event: Flags.string({char: 'e', description: 'Only violations of this event (track name).'}),
    kind: Flags.string({char: 'k', description: 'Only this kind of violation.', options: [...violationKinds]}),
    source: Flags.string({description: 'Only violations from this source.'}),
    since: Flags.string({char: 's', description: 'Only violations received at or after this: ISO 8601, or a span such as 15m, 2h, 7d.'}),
    limit: Flags.integer({char: 'n', description: 'At most this many (the newest).', default: defaultEventLimit, min: 1}),
  }

  async run(): Promise<StoredViolation[]> {
    const {flags} = await this.parse(Violations)
    const violations = await listViolations(flags)
    if (!this.jsonEnabled()) this.log(renderViolationsTable(violations.map(violationRow)))
    return violations
  }
}
