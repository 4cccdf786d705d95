/**
 * What one reader of the live stream may cost the daemon. Each bound keeps a reader's work or
 * memory small beside ingest, which never waits for a reader.
 */

/**
 * Readers at once. A developer runs a few `cdp tail`s; past this a reader gets 503. With
 * maxQueuedBytes this bounds what stalled readers can hold: 32 × 4 MiB = 128 MiB at worst.
 */
export const maxStreamReaders = 32

/** Stored events a reader may ask for first (`history=`, `cdp tail --history`). */
export const maxStreamHistory = 1000

/**
 * Bytes written to a reader that its connection has not taken yet (the response's
 * writableLength). A reader that reads never comes near it: the frames of one full batch (2,500
 * events in 500 KB) measured 1.8 MB, and the kernel's socket buffers take megabytes more. Past it
 * the reader is really stalled: items for it are dropped and counted, and it is told how many when
 * it reads again. (write() answering false means only the response's 16 KB high-water mark.)
 */
export const maxQueuedBytes = 4 * 1024 * 1024

/**
 * History is read and sent a slice per turn of the event loop: up to this many events, fewer
 * when they are large, so that a slice is about historySliceBytes. This bounds both the time a
 * slice holds the event loop and what a reader that does not read makes the daemon hold.
 */
export const historySliceEvents = 100
export const historySliceBytes = 256 * 1024

/** Sequence numbers scanned per turn while looking for the history a filter matches. */
export const historyScanWindow = 10_000
