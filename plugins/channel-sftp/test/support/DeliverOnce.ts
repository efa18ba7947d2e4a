/**
 * One delivery attempt in a process of its own, so a test can kill it with SIGKILL mid-upload as
 * a crash would: no finaliser runs, the connection just drops.
 * `node --import tsx DeliverOnce.ts '<encoded config JSON>' <padding bytes>`
 */
import { Effect, Schema } from "effect"
import { SftpChannel, SftpChannelConfig } from "../../src/index.js"
import * as Fixtures from "../Fixtures.js"

const [encoded = "{}", padding = "0"] = process.argv.slice(2)
const config = Schema.decodeUnknownSync(SftpChannelConfig.SftpChannelConfig)(JSON.parse(encoded))
const notification = Fixtures.authorized({ circumstances: "x".repeat(Number(padding)) })

await Effect.runPromise(Effect.flatMap(SftpChannel.make(config), (channel) => channel.deliver(notification)))
