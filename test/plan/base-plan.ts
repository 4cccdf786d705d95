/** The plan both diff test files start from: one event, shared definitions, identify and group traits. */

export const orderCompleted = () => ({
  name: 'Order Completed',
  description: 'User completed the order.',
  properties: {
    type: 'object',
    properties: {
      order_id: {type: 'string', description: 'Database id of the order'},
      total: {type: 'number'},
      discount: {type: 'integer'},
      coupon: {type: 'string'},
      note: {},
      payment: {type: 'string', enum: ['card', 'paypal']},
      currency: {$ref: '../definitions.json#/definitions/currency'},
      products: {type: 'array', items: {$ref: '../definitions.json#/definitions/product'}},
      shipping: {type: 'object', properties: {method: {type: 'string'}}, additionalProperties: false},
    },
    required: ['order_id', 'total'],
  },
})

/** Writes the base plan's files through `write` (a folder in memory, or a git repository). */
export function writeBasePlan(write: (relative: string, json: unknown) => void): void {
  write('events/order-completed.json', orderCompleted())
  write('definitions.json', {
    definitions: {
      currency: {type: 'string', pattern: '^[A-Z]{3}$'},
      product: {type: 'object', properties: {product_id: {type: 'string'}, price: {type: 'number'}}, required: ['product_id']},
    },
  })
  write('identify.json', {description: 'A shopper.', traits: {type: 'object', properties: {email: {type: 'string'}, plan: {type: 'string', enum: ['free', 'pro']}}, required: ['email']}})
  write('group.json', {traits: {type: 'object', properties: {name: {type: 'string'}}}})
}
