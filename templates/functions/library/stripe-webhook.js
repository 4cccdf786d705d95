// {{name}}: Stripe webhook events as Segment calls (a source function).
//
// In Stripe's dashboard (Developers → Webhooks) add an endpoint that reaches
// POST /v1/functions/{{name}} of `cdp dev` (through a tunnel while you develop), and choose the
// events below. Each one becomes a Segment call:
//
//   charge.succeeded               → track "Order Completed" (order_id, total, revenue, currency)
//   charge.refunded                → track "Order Refunded"
//   customer.created / .updated    → identify (email, name, phone, createdAt)
//   customer.subscription.created  → track "Subscription Started" (plan, interval, status)
//   customer.subscription.deleted  → track "Subscription Cancelled"
//   invoice.paid                   → track "Invoice Paid"
//
// Other event types are acknowledged and ignored. The user is the Stripe customer: its
// metadata.userId when your app sets one (so events join your own users), else the customer id.
// Each message's messageId comes from Stripe's event id, so a delivery Stripe retries is stored once.
//
// Settings (cdp.json): signingSecret, the endpoint's secret (whsec_…; without it the
// Stripe-Signature header is not checked); toleranceSeconds, how old a signed request may be
// (300, as Stripe's libraries; 0 turns the check off).

// Currencies Stripe counts in whole units rather than cents.
const zeroDecimal = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']

function amount(value, currency) {
  return zeroDecimal.includes(String(currency).toLowerCase()) ? value : value / 100
}

// Stripe-Signature: t=TIMESTAMP,v1=HEX[,v1=HEX…]; v1 is HMAC-SHA256(secret, `${t}.${body}`).
function verifySignature(header, body, settings) {
  if (!header) throw new ValidationError('the Stripe-Signature header is missing')
  const parts = header.split(',').map((part) => part.split('='))
  const timestamp = (parts.find(([key]) => key === 't') || [])[1]
  const signatures = parts.filter(([key]) => key === 'v1').map(([, value]) => value)
  if (!timestamp || signatures.length === 0) throw new ValidationError('the Stripe-Signature header has no t= or v1=')

  const expected = Buffer.from(crypto.createHmac('sha256', settings.signingSecret).update(`${timestamp}.${body}`).digest('hex'))
  const matches = signatures.some((signature) => {
    const given = Buffer.from(signature)
    return given.length === expected.length && crypto.timingSafeEqual(given, expected)
  })
  if (!matches) throw new ValidationError('the Stripe-Signature does not match: check signingSecret')

  const tolerance = settings.toleranceSeconds === undefined ? 300 : Number(settings.toleranceSeconds)
  if (tolerance > 0 && Math.abs(Date.now() / 1000 - Number(timestamp)) > tolerance) {
    throw new ValidationError(`the signed request is older than ${tolerance} s (a replay?)`)
  }
}

function user(customer, object) {
  const metadata = (object && object.metadata) || {}
  if (metadata.userId) return {userId: String(metadata.userId)}
  if (customer) return {userId: String(customer)}
  return {anonymousId: `stripe:${object.id}`}
}

/**
 * @param {SegmentRequest} request
 * @param {FunctionSettings} settings
 */
async function onRequest(request, settings) {
  const body = await request.text()
  if (settings.signingSecret) verifySignature(request.headers.get('Stripe-Signature'), body, settings)

  const event = JSON.parse(body)
  const object = (event.data && event.data.object) || {}
  const common = {
    messageId: `stripe-${event.id}`,
    timestamp: new Date(event.created * 1000).toISOString(),
    context: {integration: {name: 'stripe'}},
  }

  switch (event.type) {
    case 'charge.succeeded': {
      const total = amount(object.amount, object.currency)
      Segment.track({
        ...common,
        ...user(object.customer, object),
        event: 'Order Completed',
        properties: {
          order_id: object.payment_intent || object.id,
          charge_id: object.id,
          total,
          revenue: total,
          currency: String(object.currency).toUpperCase(),
          description: object.description || undefined,
        },
      })
      break
    }
    case 'charge.refunded':
      Segment.track({
        ...common,
        ...user(object.customer, object),
        event: 'Order Refunded',
        properties: {
          order_id: object.payment_intent || object.id,
          charge_id: object.id,
          total: amount(object.amount_refunded, object.currency),
          currency: String(object.currency).toUpperCase(),
        },
      })
      break
    case 'customer.created':
    case 'customer.updated':
      Segment.identify({
        ...common,
        ...user(object.id, object),
        traits: {
          email: object.email || undefined,
          name: object.name || undefined,
          phone: object.phone || undefined,
          createdAt: new Date(object.created * 1000).toISOString(),
          stripeCustomerId: object.id,
        },
      })
      break
    case 'customer.subscription.created':
    case 'customer.subscription.deleted': {
      const item = (object.items && object.items.data && object.items.data[0]) || {}
      const price = item.price || {}
      Segment.track({
        ...common,
        ...user(object.customer, object),
        event: event.type === 'customer.subscription.created' ? 'Subscription Started' : 'Subscription Cancelled',
        properties: {
          subscription_id: object.id,
          plan: price.nickname || price.id,
          interval: price.recurring ? price.recurring.interval : undefined,
          amount: price.unit_amount === undefined ? undefined : amount(price.unit_amount, price.currency),
          currency: price.currency ? String(price.currency).toUpperCase() : undefined,
          status: object.status,
        },
      })
      break
    }
    case 'invoice.paid':
      Segment.track({
        ...common,
        ...user(object.customer, object),
        event: 'Invoice Paid',
        properties: {
          invoice_id: object.id,
          subscription_id: object.subscription || undefined,
          total: amount(object.amount_paid, object.currency),
          currency: String(object.currency).toUpperCase(),
        },
      })
      break
    default:
      console.log(`ignored Stripe event ${event.type}`)
  }
}
