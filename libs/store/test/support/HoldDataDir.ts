/** Opens the embedded database in the folder given as its argument, says "ready", and holds it until killed. */
import { Effect, Layer } from "effect"
import { Sql } from "../../src/index.js"

const dataDir = process.argv[2] ?? ""
await Effect.runPromise(
  Layer.build(Sql.layer({ dataDir })).pipe(
    Effect.zipRight(Effect.sync(() => process.stdout.write("ready\n"))),
    Effect.zipRight(Effect.never),
    Effect.scoped
  )
)
