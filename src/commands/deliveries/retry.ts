import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {dirFlag} from '../../flags.js'
import {retryDeliveries, type RetryResult} from '../../services/deliveries.js'
import {renderRetryResult} from '../../ui/deliveries-report.js'

export default class DeliveriesRetry extends BaseCommand {
  static override summary = 'Send dead-lettered events again.'
  static override description = `Queues dead-lettered events for another round of attempts (the attempt count starts again). A running \`cdp dev\` sends them at once; with none running, they go when it next starts.
Without flags, every dead-lettered event of every destination goes again.`
  static override examples = [
    {description: 'Everything dead-lettered', command: '<%= config.bin %> deliveries retry'},
    {description: 'One destination', command: '<%= config.bin %> deliveries retry --destination crm-hook'},
    {description: 'Chosen records (ids from `cdp deliveries`)', command: '<%= config.bin %> deliveries retry --id 12 --id 13'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...dirFlag,
    destination: Flags.string({char: 'D', description: 'Only this destination.'}),
    id: Flags.integer({description: 'Only this delivery record (repeatable).', multiple: true, min: 1}),
  }

  async run(): Promise<RetryResult> {
    const {flags} = await this.parse(DeliveriesRetry)
    const result = await retryDeliveries(flags.dir, {destination: flags.destination, ids: flags.id})
    if (!this.jsonEnabled()) this.log(renderRetryResult(result))
    return result
  }
}
