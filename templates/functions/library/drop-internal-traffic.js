// {{name}}: events from your own people dropped (an insert function).
//
// Attach it with "insert": "{{name}}" on a source to keep staff, QA and office traffic out of
// the store and every destination, or on one destination to keep it out of that one only.
//
// An event is dropped when its email (traits, context.traits or properties) is one of
// settings.internalEmails or ends with @ one of settings.internalDomains (subdomains included),
// or when context.ip is one of settings.internalIps. Everything else goes on unchanged.

function list(value) {
  if (Array.isArray(value)) return value.map((item) => String(item).trim().toLowerCase()).filter(Boolean)
  // A comma-separated string works too.
  if (typeof value === 'string') return list(value.split(','))
  return []
}

function emailsOf(event) {
  return [event.traits, event.context && event.context.traits, event.properties]
    .map((fields) => fields && fields.email)
    .filter((email) => typeof email === 'string')
    .map((email) => email.trim().toLowerCase())
}

function internal(event, settings) {
  const emails = list(settings.internalEmails)
  const domains = list(settings.internalDomains).map((domain) => domain.replace(/^@/, ''))
  for (const email of emailsOf(event)) {
    if (emails.includes(email)) return `internal email ${email}`
    const domain = email.slice(email.lastIndexOf('@') + 1)
    const match = domains.find((internalDomain) => domain === internalDomain || domain.endsWith(`.${internalDomain}`))
    if (match) return `internal domain ${match}`
  }
  const ip = event.context && event.context.ip
  if (ip && list(settings.internalIps).includes(String(ip).toLowerCase())) return `internal IP ${ip}`
  return undefined
}

function filter(event, settings) {
  const reason = internal(event, settings)
  if (reason) throw new DropEvent(reason)
  return event
}

async function onTrack(event, settings) {
  return filter(event, settings)
}

async function onIdentify(event, settings) {
  return filter(event, settings)
}

async function onPage(event, settings) {
  return filter(event, settings)
}

async function onScreen(event, settings) {
  return filter(event, settings)
}

async function onGroup(event, settings) {
  return filter(event, settings)
}

async function onAlias(event, settings) {
  return filter(event, settings)
}

async function onDelete(event, settings) {
  return event
}
