import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import type {DeliveriesReport} from '../../delivery/report.js'
import {dirFlag} from '../../flags.js'
import {listDeliveries} from '../../services/deliveries.js'
import {deliveriesView} from '../../services/views.js'
import {defaultEventLimit} from '../../query/filter-input.js'
import {deliveryStatuses} from '../../store/types.js'
import {renderDeliveriesReport} from '../../ui/deliveries-report.js'

export default class Deliveries extends BaseCommand {
  static override summary = 'Show where delivery to each destination stands, and the events that failed.'
  static override description = `Per destination in cdp.json: events delivered, pending (queued, or waiting behind an earlier event of the same user), retrying and dead-lettered; the success rate (delivered ÷ delivered and dead) and latency from receipt to delivery (p50 / p99). Then, when user functions ran, how their runs ended per function and where it ran (changed, unchanged, dropped, error, delivered, emitted; \`functions\` in --json; with --destination, only that destination's). Then the events that failed, with their attempts and last error (status and the start of the answer's body).
It reads the store beside a running \`cdp dev\`. GET /api/deliveries on the daemon serves the same as JSON.`
  static override examples = [
    {description: 'Every destination, and events retrying or dead-lettered', command: '<%= config.bin %> deliveries'},
    {description: 'Dead-lettered events of one destination', command: '<%= config.bin %> deliveries --destination crm-hook --status dead'},
    {description: 'As JSON, for scripts', command: '<%= config.bin %> deliveries --json'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    destination: Flags.string({char: 'D', description: 'Only this destination (its name in cdp.json).'}),
    status: Flags.string({char: 's', description: 'List delivery records of this status instead of retrying and dead ones.', options: [...deliveryStatuses]}),
    limit: Flags.integer({char: 'n', description: 'At most this many records (the newest).', default: defaultEventLimit, min: 1}),
  }

  async run(): Promise<DeliveriesReport> {
    const {flags} = await this.parse(Deliveries)
    const report = await listDeliveries(flags.dir, {destination: flags.destination, status: flags.status, limit: flags.limit})
    if (!this.jsonEnabled()) this.log(renderDeliveriesReport(deliveriesView(report), flags.status))
    return report
  }
}
