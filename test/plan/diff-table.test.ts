import {describe, expect, it} from 'vitest'
import {breakingKinds, diffPlans, type ChangeKind} from '../../src/plan/diff.js'
import {loadPlanFrom} from '../../src/plan/load.js'
import type {TrackingPlan} from '../../src/plan/types.js'
import {orderCompleted, writeBasePlan} from './base-plan.js'

/**
 * Each kind of change the plan diff knows, on the pure diffPlans: a plan folder in memory, an edit,
 * and the one change it must report. plan-diff.test.ts runs the same comparison through git and the CLI.
 */

type Json = Record<string, any>

/** A plan folder in memory, edited the way a person edits its files. */
class PlanFolder {
  private readonly files = new Map<string, string>()

  write(relative: string, content: unknown): void {
    this.files.set(relative, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }

  edit(relative: string, edit: (document: Json) => void): void {
    const document = JSON.parse(this.files.get(relative)!)
    edit(document)
    this.write(relative, document)
  }

  remove(relative: string): void {
    this.files.delete(relative)
  }

  /** The folder's plan, as cdp loads it; a file that does not load fails the test. */
  load(): TrackingPlan {
    const {plan, problems} = loadPlanFrom(this.files, '/workspace/plan')
    expect(problems.filter((problem) => problem.severity === 'error')).toEqual([])
    return plan
  }
}

/** The plan every case starts from: one event, shared definitions, identify and group traits. */
function plannedFolder(): PlanFolder {
  const folder = new PlanFolder()
  writeBasePlan((relative, json) => folder.write(relative, json))
  return folder
}

type Edit = (folder: PlanFolder) => void

/** [kind, what changed, the edit from base to head, the change's message, an edit to the base plan first]. */
type Case = [ChangeKind, string, Edit, string, Edit?]

/** The changes from the base plan (plannedFolder, with `before` applied) to the same plan with `edit` applied. */
function changesAfter(edit: Edit, before?: Edit) {
  const folder = plannedFolder()
  before?.(folder)
  const base = folder.load()
  edit(folder)
  return diffPlans(base, folder.load())
}

describe('diffPlans: each kind of change', () => {
  const breaking: Case[] = [
    ['event_removed', 'an event removed', (r) => r.remove('events/order-completed.json'), 'Event "Order Completed" was removed.'],
    [
      'event_version_removed',
      'an event version removed',
      (r) => r.remove('events/order-completed-v2.json'),
      'Version 2 of "Order Completed" was removed; messages that ask for it are checked against the oldest version left.',
      (r) => r.write('events/order-completed-v2.json', {...orderCompleted(), version: 2}),
    ],
    ['property_removed', 'a property removed', (r) => r.edit('events/order-completed.json', (d) => delete d.properties.properties.coupon), 'properties.coupon was removed from "Order Completed".'],
    ['property_required', 'a property made required', (r) => r.edit('events/order-completed.json', (d) => d.properties.required.push('coupon')), 'properties.coupon is now required in "Order Completed".'],
    [
      'required_property_added',
      'a required property added',
      (r) =>
        r.edit('events/order-completed.json', (d) => {
          d.properties.properties.tax = {type: 'number'}
          d.properties.required.push('tax')
        }),
      'properties.tax was added to "Order Completed" as a required property.',
    ],
    ['type_narrowed', 'number narrowed to integer', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.total.type = 'integer')), 'The type of properties.total in "Order Completed" narrowed from number to integer.'],
    ['type_narrowed', 'a type given to a property that had none', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.note = {type: 'string'})), 'The type of properties.note in "Order Completed" narrowed from any type to string.'],
    ['type_changed', 'a type changed to another', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.coupon.type = 'number')), 'The type of properties.coupon in "Order Completed" changed from string to number.'],
    ['enum_value_removed', 'an enum value removed', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.payment.enum = ['card'])), 'properties.payment in "Order Completed" no longer accepts "paypal".'],
    ['enum_added', 'an enum added where there was none', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.coupon.enum = ['SUMMER', 'WINTER'])), 'properties.coupon in "Order Completed" now accepts only "SUMMER", "WINTER".'],
    [
      'additional_properties_closed',
      'additionalProperties closed',
      (r) => r.edit('events/order-completed.json', (d) => (d.properties.additionalProperties = false)),
      'properties in "Order Completed" no longer accepts properties it does not list (additionalProperties: false).',
    ],
    ['constraint_tightened', 'a minimum added', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.total.minimum = 0)), 'The minimum of properties.total in "Order Completed" was added: 0.'],
    [
      'constraint_changed',
      'a pattern changed in a shared definition',
      (r) => r.edit('definitions.json', (d) => (d.definitions.currency.pattern = '^[A-Z]{3,4}$')),
      'The pattern of properties.currency in "Order Completed" changed from "^[A-Z]{3}$" to "^[A-Z]{3,4}$"; cdp cannot tell whether it accepts more or fewer values, so it counts as breaking.',
    ],
    [
      'schema_changed',
      'a keyword cdp does not classify',
      (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.coupon.not = {const: ''})),
      'The not keyword of properties.coupon in "Order Completed" changed; cdp cannot tell whether it accepts more or fewer values, so it counts as breaking.',
    ],
    ['type_narrowed', 'a type narrowed in array items, through a $ref', (r) => r.edit('definitions.json', (d) => (d.definitions.product.properties.price.type = 'integer')), 'The type of properties.products[].price in "Order Completed" narrowed from number to integer.'],
    ['property_removed', 'a property removed from a nested object', (r) => r.edit('events/order-completed.json', (d) => delete d.properties.properties.shipping.properties.method), 'properties.shipping.method was removed from "Order Completed".'],
    ['enum_value_removed', 'an identify trait enum value removed', (r) => r.edit('identify.json', (d) => (d.traits.properties.plan.enum = ['free'])), 'traits.plan in identify.json no longer accepts "pro".'],
    ['property_required', 'a group trait made required', (r) => r.edit('group.json', (d) => (d.traits.required = ['name'])), 'traits.name is now required in group.json.'],
    ['rule_removed', 'group.json removed', (r) => r.remove('group.json'), 'group.json was removed: group calls are no longer checked.'],
  ]

  const safe: Case[] = [
    ['event_added', 'an event added', (r) => r.write('events/signed-up.json', {name: 'Signed Up', properties: {type: 'object'}}), 'Event "Signed Up" was added.'],
    ['event_version_added', 'an event version added', (r) => r.write('events/order-completed-v2.json', {...orderCompleted(), version: 2}), 'Version 2 of "Order Completed" was added.'],
    ['property_added', 'an optional property added', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.tax = {type: 'number'})), 'properties.tax was added to "Order Completed" as an optional property.'],
    ['property_optional', 'a required property made optional', (r) => r.edit('events/order-completed.json', (d) => (d.properties.required = ['order_id'])), 'properties.total is no longer required in "Order Completed".'],
    ['description_changed', "an event's description changed", (r) => r.edit('events/order-completed.json', (d) => (d.description = 'The order went through.')), 'The description of "Order Completed" changed.'],
    ['description_changed', "a property's description changed", (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.order_id.description = 'Order id')), 'The description of properties.order_id in "Order Completed" changed.'],
    ['type_widened', 'integer widened to number', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.discount.type = 'number')), 'The type of properties.discount in "Order Completed" widened from integer to number.'],
    ['type_widened', 'a type added to a list', (r) => r.edit('events/order-completed.json', (d) => (d.properties.properties.coupon.type = ['string', 'null'])), 'The type of properties.coupon in "Order Completed" widened from string to string or null.'],
    ['enum_value_added', 'an enum value added', (r) => r.edit('events/order-completed.json', (d) => d.properties.properties.payment.enum.push('gift_card')), 'properties.payment in "Order Completed" now also accepts "gift_card".'],
    ['enum_removed', 'an enum removed', (r) => r.edit('events/order-completed.json', (d) => delete d.properties.properties.payment.enum), 'properties.payment in "Order Completed" no longer limits its values to "card", "paypal".'],
    ['additional_properties_opened', 'additionalProperties opened', (r) => r.edit('events/order-completed.json', (d) => delete d.properties.properties.shipping.additionalProperties), 'properties.shipping in "Order Completed" now accepts properties it does not list.'],
    ['constraint_loosened', 'a pattern removed from a shared definition', (r) => r.edit('definitions.json', (d) => delete d.definitions.currency.pattern), 'The pattern of properties.currency in "Order Completed" was removed (it was "^[A-Z]{3}$").'],
    ['rule_added', 'page.json added', (r) => r.write('page.json', {properties: {type: 'object'}}), 'page.json was added: page calls are now checked against it.'],
    ['property_optional', 'an identify trait made optional', (r) => r.edit('identify.json', (d) => delete d.traits.required), 'traits.email is no longer required in identify.json.'],
  ]


  it.each(breaking)('%s: %s is one breaking change', (kind, _label, edit, message, before) => {
    expect(changesAfter(edit, before).map(({kind, breaking, message}) => ({kind, breaking, message}))).toEqual([{kind, breaking: true, message}])
  })

  it.each(safe)('%s: %s is one safe change', (kind, _label, edit, message, before) => {
    expect(changesAfter(edit, before).map(({kind, breaking, message}) => ({kind, breaking, message}))).toEqual([{kind, breaking: false, message}])
  })

  it('the tables cover every kind of change diffPlans reports, with its verdict', () => {
    const covered = new Map([...breaking.map(([kind]) => [kind, true] as const), ...safe.map(([kind]) => [kind, false] as const)])
    expect(Object.fromEntries(covered)).toEqual(breakingKinds)
  })
})
