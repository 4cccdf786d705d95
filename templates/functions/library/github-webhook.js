// {{name}}: GitHub webhook deliveries as Segment track events (a source function).
//
// In the repository's (or organisation's) Settings → Webhooks, add one whose payload URL reaches
// POST /v1/functions/{{name}} of `cdp dev`, content type application/json, with a secret, for
// these events:
//
//   push          → "Code Pushed" (repository, branch, commits, compare URL)
//   pull_request  → "Pull Request Opened" / "Closed" / "Merged" / "Reopened" …
//   issues        → "Issue Opened" / "Closed" / "Labeled" …
//   star          → "Repository Starred" / "Repository Unstarred"
//
// ping (sent when the webhook is added) and other events are acknowledged and ignored. The user is
// the GitHub account that acted (sender.id); messageId comes from X-GitHub-Delivery, so a
// redelivery is stored once.
//
// Settings (cdp.json): secret, the webhook's secret (without it the X-Hub-Signature-256 header is
// not checked).

// X-Hub-Signature-256: sha256=HEX, the HMAC-SHA256 of the body with the secret.
function verifySignature(header, body, secret) {
  if (!header || !header.startsWith('sha256=')) throw new ValidationError('the X-Hub-Signature-256 header is missing')
  const expected = Buffer.from(`sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`)
  const given = Buffer.from(header)
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    throw new ValidationError('the X-Hub-Signature-256 does not match: check the secret')
  }
}

function titleCase(text) {
  return String(text)
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ')
}

/**
 * @param {SegmentRequest} request
 * @param {FunctionSettings} settings
 */
async function onRequest(request, settings) {
  const body = await request.text()
  if (settings.secret) verifySignature(request.headers.get('X-Hub-Signature-256'), body, settings.secret)

  const kind = request.headers.get('X-GitHub-Event')
  const payload = JSON.parse(body)
  const delivery = request.headers.get('X-GitHub-Delivery')
  const repository = payload.repository ? payload.repository.full_name : undefined
  const sender = payload.sender || {}
  const common = {
    ...(delivery ? {messageId: `github-${delivery}`} : {}),
    userId: String(sender.id),
    context: {integration: {name: 'github'}},
  }

  switch (kind) {
    case 'push':
      Segment.track({
        ...common,
        event: 'Code Pushed',
        properties: {
          repository,
          branch: String(payload.ref).replace(/^refs\/heads\//, ''),
          commits: (payload.commits || []).length,
          compare: payload.compare,
          forced: payload.forced === true,
          sender: sender.login,
        },
      })
      break
    case 'pull_request': {
      const pr = payload.pull_request || {}
      const action = payload.action === 'closed' && pr.merged ? 'merged' : payload.action
      Segment.track({
        ...common,
        event: `Pull Request ${titleCase(action)}`,
        properties: {
          repository,
          number: pr.number,
          title: pr.title,
          base: pr.base ? pr.base.ref : undefined,
          additions: pr.additions,
          deletions: pr.deletions,
          sender: sender.login,
        },
      })
      break
    }
    case 'issues': {
      const issue = payload.issue || {}
      Segment.track({
        ...common,
        event: `Issue ${titleCase(payload.action)}`,
        properties: {
          repository,
          number: issue.number,
          title: issue.title,
          labels: (issue.labels || []).map((label) => label.name),
          sender: sender.login,
        },
      })
      break
    }
    case 'star':
      Segment.track({
        ...common,
        event: payload.action === 'deleted' ? 'Repository Unstarred' : 'Repository Starred',
        properties: {repository, stars: payload.repository ? payload.repository.stargazers_count : undefined, sender: sender.login},
      })
      break
    default:
      console.log(`ignored GitHub event ${kind}`)
  }
}
