import type {StreamItem} from './types.js'

/** The reader's side of the connection to the daemon. */
export interface ConnectionState {
  state: 'connecting' | 'connected' | 'disconnected'
  url: string
  /** Why it is disconnected, or what it is waiting for, in a sentence. */
  detail?: string
}

/**
 * A live feed of stream items, as `cdp tail` consumes it: items arrive in batches (so a UI renders
 * once per batch, not once per event), and the connection's state changes are reported.
 */
export interface StreamFeed {
  onItems(listener: (items: StreamItem[]) => void): () => void
  onConnection(listener: (state: ConnectionState) => void): () => void
  close(): void
}
