/**
 * Resolves on SIGINT or SIGTERM, or when the reader of stdout goes away (`| head`), after calling
 * onStop once: how a command that prints until stopped (`cdp tail`, `cdp fn logs --follow`) ends.
 */
export function untilStopped(onStop: () => void): Promise<void> {
  return new Promise((resolve) => {
    let stopped = false
    const stop = () => {
      if (stopped) return
      stopped = true
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      onStop()
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') stop()
    })
  })
}

/**
 * Calls onStop once on the first SIGINT or SIGTERM, until the returned function is called: how a
 * command that finishes on its own but can be stopped part way (`cdp replay`) hears Ctrl-C.
 */
export function onStopSignal(onStop: (signal: NodeJS.Signals) => void): () => void {
  let stopped = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopped) return
    stopped = true
    onStop(signal)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  return () => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}
