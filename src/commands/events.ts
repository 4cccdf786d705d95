import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {dirFlag} from '../flags.js'
import {listEvents, messagesOf} from '../services/events.js'
import {eventRow} from '../services/views.js'
import type {SegmentMessage} from '../message/types.js'
import {defaultEventLimit} from '../query/filter-input.js'
import {renderEventsTable} from '../ui/events-table.js'

export default class Events extends BaseCommand {
  static override summary = 'List stored events, newest last.'
  static override description = `Reads the workspace's event store (also while cdp dev is running) and prints the newest events that match, oldest first.
--json prints the stored messages in Segment's shape: the normalised message with messageId, type, timestamp, originalTimestamp, sentAt, receivedAt, context and integrations.`
  static override examples = [
    {description: 'The last 100 events', command: '<%= config.bin %> events'},
    {description: 'Order Completed events of one user in the last hour', command: '<%= config.bin %> events --event "Order Completed" --user user-42 --since 1h'},
    {description: 'Identify calls as JSON, for scripts', command: '<%= config.bin %> events --type identify --json'},
    {description: 'Events that break the tracking plan', command: '<%= config.bin %> events --no-valid'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    type: Flags.string({char: 't', description: 'Only this message type: track, identify, page, screen, group or alias.'}),
    event: Flags.string({char: 'e', description: 'Only this track event name (or page/screen name).'}),
    user: Flags.string({char: 'u', description: 'Only events whose userId or anonymousId is this.'}),
    source: Flags.string({description: 'Only events from this source (its name in cdp.json).'}),
    since: Flags.string({char: 's', description: 'Only events timestamped at or after this: an ISO 8601 time, or a span back from now such as 30s, 15m, 2h, 7d.'}),
    limit: Flags.integer({char: 'n', description: 'At most this many events (the newest).', default: defaultEventLimit, min: 1}),
    valid: Flags.boolean({description: 'Only events that follow the tracking plan; --no-valid: only those that break it.', allowNo: true}),
  }

  async run(): Promise<SegmentMessage[]> {
    const {flags} = await this.parse(Events)
    const result = await listEvents(flags)
    if (!this.jsonEnabled()) this.log(renderEventsTable(result.events.map(eventRow)))
    return messagesOf(result)
  }
}
