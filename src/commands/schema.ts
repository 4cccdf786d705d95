import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {dirFlag} from '../flags.js'
import {exploreSchema, type ObservedEventReport} from '../services/schema.js'
import {renderSchemaReport} from '../ui/schema-report.js'

export default class Schema extends BaseCommand {
  static override summary = 'Show what was actually observed: events, their properties, types and counts, against the plan.'
  static override description = `Reads the stored events (also while cdp dev runs) and lists each track event name, and identify and group traits, with how often it was seen, first and last seen, and each property path with its JSON types and counts. Events and properties that are not in the plan are marked.`
  static override examples = [
    {description: 'What arrived, against the plan', command: '<%= config.bin %> schema'},
    {description: 'One event as JSON', command: '<%= config.bin %> schema --event "Order Completed" --json'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    event: Flags.string({char: 'e', description: 'Only this track event (or "identify", "group").'}),
  }

  async run(): Promise<ObservedEventReport[]> {
    const {flags} = await this.parse(Schema)
    const events = await exploreSchema({dir: flags.dir, event: flags.event})
    if (!this.jsonEnabled()) this.log(renderSchemaReport(events))
    return events
  }
}
