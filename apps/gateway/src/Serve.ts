/**
 * `encompass serve`: the long-running regional service. It loads the region file, composes the
 * gateway, starts the intake transports the file configures (HTTP push, SMTP inbox, SFTP drops),
 * the workers and the deadline watch, logs one JSON object per line without personal data, and on SIGTERM or
 * SIGINT closes the transports (no new feeds), lets in-flight work finish or release its claim,
 * sends the SPOC alerts not yet emailed, and exits.
 */
import { HttpServer } from "@effect/platform"
import { AuditLog } from "@encompass/audit"
import { DeadlineWatch } from "@encompass/pipeline"
import { Effect, Layer, Logger, Option } from "effect"
import * as HttpPush from "./HttpPush.js"
import * as SftpDrop from "./intake/SftpDrop.js"
import * as SmtpInbox from "./intake/SmtpInbox.js"
import * as Region from "./Region.js"
import * as RegionConfig from "./RegionConfig.js"
import * as SpocAlerts from "./SpocAlerts.js"
import * as Workers from "./Workers.js"

const address = (a: HttpServer.Address) => (a._tag === "TcpAddress" ? `${a.hostname}:${a.port}` : a.path)

/** The service for one loaded region file; runs until interrupted. */
export const serve = (config: RegionConfig.RegionConfig, file: string) =>
  Effect.gen(function*() {
    const http = Option.fromNullable(config.http)
    const listening = yield* Option.match(http, {
      onNone: () => Effect.succeed(Option.none<string>()),
      onSome: (h) =>
        Layer.build(HttpPush.serverLayer(h, config.region)).pipe(
          Effect.flatMap((context) => HttpServer.HttpServer.pipe(Effect.provide(context))),
          Effect.map((server) => Option.some(address(server.address)))
        )
    })
    const smtp = config.smtp === undefined ? Option.none() : Option.some(yield* SmtpInbox.make(config.smtp))
    for (const drop of config.sftp) yield* Effect.forkScoped(SftpDrop.run(drop))
    yield* Effect.forkScoped(Workers.sweeper)
    yield* Effect.forkScoped(Workers.retention)
    yield* Effect.forkScoped(Workers.listener)
    yield* Effect.forkScoped(Workers.feedWorker({ poll: config.workers.feedPoll, lease: config.workers.feedLease }))
    yield* Effect.forkScoped(Workers.deliveryWorker({ poll: config.workers.deliveryPoll, outbox: RegionConfig.outboxOptions(config) }))
    yield* Effect.forkScoped(AuditLog.anchorEvery(config.workers.auditAnchor, { anchorsFile: config.anchorsFile }))
    yield* Effect.forkScoped(DeadlineWatch.watch({ interval: config.workers.deadlineScan, atRiskLead: config.workers.atRiskLead }))
    yield* Effect.logInfo("gateway started").pipe(
      Effect.annotateLogs({
        region: config.region,
        http: Option.getOrNull(listening),
        smtp: Option.match(smtp, { onNone: () => null, onSome: (s) => `${s.address}:${s.port}` }),
        sftpDrops: config.sftp.length,
        alerts: config.alerts?.email === undefined ? "log" : "email",
        sources: config.sources.map((s) => s.id).join(","),
        config: file
      })
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.onInterrupt(() => Effect.logInfo("gateway stopped").pipe(Effect.annotateLogs({ region: config.region }))),
    Effect.provide(Workers.wakingInboxLayer),
    // One alert sink for the watch and the delivery worker, so their alerts share an email; it
    // outlives the workers' scope, so what they raise while stopping is still sent.
    Effect.provide(Layer.mergeAll(Region.layer(config, file), Workers.Wake.layer, SpocAlerts.fromRegion(config, file))),
    Effect.provide(Logger.json)
  )

/** Loads the region file and serves it. */
export const run = (file: string) => Effect.flatMap(RegionConfig.load(file), (config) => serve(config, file))

