// {{name}}: email addresses replaced by their SHA-256 (an insert function).
//
// Attach it with "insert": "{{name}}" on a destination that must not receive plain email
// addresses (an ad platform, an analytics tool), or on a source to store none at all. The hash is
// of the trimmed, lower-cased address, the form Google, Meta and LinkedIn match customer lists on,
// so the destination can still join on it.
//
// It changes traits.email (identify, group), context.traits.email and properties.email (track,
// page, screen); a value that is already a SHA-256 is left as it is. Every other field goes on as
// it came.

const sha256 = /^[0-9a-f]{64}$/

function hash(value) {
  if (typeof value !== 'string' || value.trim() === '') return value
  const email = value.trim().toLowerCase()
  if (sha256.test(email)) return email
  return crypto.createHash('sha256').update(email).digest('hex')
}

function hashEmails(event) {
  for (const field of ['traits', 'properties']) {
    if (event[field] && event[field].email !== undefined) event[field].email = hash(event[field].email)
  }
  if (event.context && event.context.traits && event.context.traits.email !== undefined) {
    event.context.traits.email = hash(event.context.traits.email)
  }
  return event
}

async function onTrack(event, settings) {
  return hashEmails(event)
}

async function onIdentify(event, settings) {
  return hashEmails(event)
}

async function onPage(event, settings) {
  return hashEmails(event)
}

async function onScreen(event, settings) {
  return hashEmails(event)
}

async function onGroup(event, settings) {
  return hashEmails(event)
}

async function onAlias(event, settings) {
  return event
}

async function onDelete(event, settings) {
  return event
}
