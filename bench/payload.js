// The benchmark's event: an e-commerce "Product Added" track call of about 550 bytes as JSON,
// the size a browser or server SDK typically sends. Every request/message gets its own messageId.
//
// Bodies are built by string concatenation around a pre-serialised template so that the load
// generator spends as little CPU as possible per request (it shares the 2 cores with the server).

const MESSAGE_ID_PLACEHOLDER = '__MESSAGE_ID__'

/** The event as an object, with `messageId` given. */
export function productAdded(messageId) {
  return {
    type: 'track',
    event: 'Product Added',
    messageId,
    userId: 'u_4821',
    anonymousId: '6f1c2d4e-8a7b-4c3d-9e0f-1a2b3c4d5e6f',
    timestamp: '2024-05-14T09:21:37.512Z',
    properties: {
      product_id: '507f1f77',
      sku: 'G-32',
      category: 'Games',
      name: 'Monopoly',
      brand: 'Hasbro',
      price: 18.99,
      quantity: 1,
      currency: 'USD',
      cart_id: 'c-9',
    },
    context: {
      library: {name: 'analytics.js', version: '5.2.1'},
      page: {
        path: '/p/42',
        url: 'https://shop.example/p/42',
        referrer: 'https://google.com/',
        title: 'Monopoly',
      },
      userAgent: 'Mozilla/5.0 (Mac) Safari/605',
      ip: '203.0.113.42',
      locale: 'en-US',
    },
  }
}

/**
 * Makes unique message ids cheaply: a per-process prefix and a counter, padded to a fixed width so
 * every body has the same size (36 characters, the length of a UUID).
 */
export function messageIds(tag = `${process.pid.toString(36)}${Date.now().toString(36)}`) {
  const prefix = `bench-${tag}-`.slice(0, 24).padEnd(24, 'x')
  let n = 0
  return () => prefix + String(n++).padStart(12, '0')
}

/** A function that serialises the event with a given messageId, by concatenation. */
export function eventSerializer() {
  const template = JSON.stringify(productAdded(MESSAGE_ID_PLACEHOLDER))
  const at = template.indexOf(MESSAGE_ID_PLACEHOLDER)
  const head = template.slice(0, at)
  const tail = template.slice(at + MESSAGE_ID_PLACEHOLDER.length)
  return (messageId) => head + messageId + tail
}

/** Bytes of one serialised event (with a 36-character messageId). */
export function eventBytes() {
  return Buffer.byteLength(eventSerializer()(messageIds('size')()))
}

/**
 * A maker of request bodies for the load generators: one event (batchSize 0) or {"batch": [...]}
 * of batchSize events, each with a new messageId.
 */
export function requestBodies(batchSize) {
  const serialize = eventSerializer()
  const nextId = messageIds()
  return () => {
    if (batchSize <= 0) return serialize(nextId())
    const items = new Array(batchSize)
    for (let i = 0; i < batchSize; i++) items[i] = serialize(nextId())
    return '{"batch":[' + items.join(',') + ']}'
  }
}
