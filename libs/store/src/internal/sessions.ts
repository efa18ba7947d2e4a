/**
 * Connections held for a transaction or a session (`Sql.transaction`, `Sql.withConnection`).
 *
 * postgres.js 3.4.x cannot be trusted with a reserved connection whose server went away
 * (porsager/postgres #1154, #1208, still so in 3.4.10): a statement sent on it after the socket
 * closed is flushed from a `setImmediate` onto a null socket, and the TypeError it throws there
 * is uncaught and ends the process; a closed connection handed back with `release()` joins the
 * pool's open connections and does the same to the next query. A server restart during a
 * transaction (its ROLLBACK, or its next statement) was enough.
 *
 * So on a server, a held connection is not `reserve()`d: it is a client of its own with a single
 * connection, used exclusively while held. Its statements go through the driver's pool path,
 * which reconnects a closed connection instead of writing to it; and since its `onclose` marks
 * the holder's connection `lost`, `Sql` refuses the holder's later statements rather than let a
 * reconnect run the rest of a transaction outside it.
 */
import { Effect, Pool } from "effect"
import type { Scope } from "effect"
import type postgres from "postgres"
import type { SqlError } from "../SqlError.js"
import { fromUnknown } from "./sqlError.js"

export interface Held {
  readonly client: postgres.Sql
  /**
   * Shared by all depths of a transaction. `released`: a fiber that outlives the holder falls
   * back to the pool. `lost`: the connection closed or failed while held; what was not committed
   * is gone with the server's session.
   */
  readonly state: { released: boolean; lost: boolean }
}

/** Holds one of the pool's own connections: the embedded store's single connection. */
export const reserving = (pool: postgres.Sql): Effect.Effect<Held, SqlError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => pool.reserve(), catch: (cause) => fromUnknown("Sql", "reserve", cause) }),
    (client) => Effect.sync(() => client.release())
  ).pipe(Effect.map((client): Held => ({ client, state: { released: false, lost: false } })))

interface Slot {
  readonly client: postgres.Sql
  holder: Held["state"] | undefined
  /** Its connection was lost: closed at once, as nothing on it can finish. */
  discarded: boolean
}

/**
 * Up to `size` single-connection clients made by `create`, held one holder at a time. A client
 * connects on first use and reconnects by itself after its connection was lost; `create` is
 * given the callback to run when its connection closes.
 */
export const separate = (
  create: (onclose: () => void) => postgres.Sql,
  size: number
): Effect.Effect<Effect.Effect<Held, never, Scope.Scope>, never, Scope.Scope> =>
  Effect.map(
    Pool.make({
      size,
      acquire: Effect.acquireRelease(
        Effect.sync(() => {
          const slot: Slot = {
            client: create(() => {
              if (slot.holder !== undefined) slot.holder.lost = true
            }),
            holder: undefined,
            discarded: false
          }
          return slot
        }),
        (slot) => Effect.promise(() => slot.client.end({ timeout: slot.discarded ? 0 : 5 }).catch(() => undefined))
      )
    }),
    (pool) =>
      Effect.flatMap(Pool.get(pool), (slot) =>
        Effect.acquireRelease(
          Effect.sync((): Held => {
            const state = { released: false, lost: false }
            slot.holder = state
            return { client: slot.client, state }
          }),
          // A client whose connection was lost is replaced, not reused: 3.4.x keeps the server's
          // last error across the reconnect and fails the next holder's first statement with it.
          ({ state }) =>
            Effect.suspend(() => {
              slot.holder = undefined
              slot.discarded = state.lost
              return state.lost ? Pool.invalidate(pool, slot) : Effect.void
            })
        ))
  )
