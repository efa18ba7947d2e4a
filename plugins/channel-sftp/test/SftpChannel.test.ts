import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import * as fs from "node:fs"
import { SftpChannel, SftpChannelConfig } from "../src/index.js"
import { configTable } from "./ConfigTable.js"
import * as Fixtures from "./Fixtures.js"

const decode = Schema.decodeUnknownEither(SftpChannelConfig.SftpChannelConfig)
const stand = { port: 22, user: "encompass", clientKey: "/etc/encompass/keys/council_ed25519", hostKey: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" }

describe("SftpChannelConfig", () => {
  it("a pinned host key is required: there is no way to accept any key", () => {
    const { hostKey: _, ...unpinned } = Fixtures.encoded(stand, "/inbound")
    expect(Either.isLeft(decode(unpinned))).toBe(true)
    expect(Either.isLeft(decode({ ...unpinned, hostKey: "" }))).toBe(true)
  })

  it("fills in the defaults: port 22, no manifest, no passwords, 20 s to connect, 60 s per request", () => {
    const { passwords: _, ...bare } = Fixtures.encoded(stand, "/inbound")
    const config = Either.getOrThrow(decode(bare))
    expect([config.port, config.manifest, config.passwords, config.connectTimeoutMs, config.operationTimeoutMs]).toEqual([22, false, {}, 20_000, 60_000])
  })

  it("the README's config table is the one the schema's annotations give", () => {
    const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8")
    expect(readme).toContain(configTable())
  })
})

describe("SftpChannel.registration", () => {
  it.scoped("builds the channel with privateKey and keyDirectory relative to the region file's folder, connecting to nothing", () =>
    Effect.gen(function*() {
      const settings = Either.getOrThrow(decode({ ...Fixtures.encoded(stand, "/inbound"), privateKey: "keys/missing_ed25519", keyDirectory: "keys/openpgp" }))
      const channel = yield* SftpChannel.registration.build(settings, { region: "test", resolve: (file) => `/etc/encompass/${file}` })
      // The key is read before any connection is made, so the error shows the path the channel uses.
      const error = yield* Effect.flip(channel.check)
      expect(error.detail).toContain("the private key file /etc/encompass/keys/missing_ed25519 cannot be read (ENOENT)")
    }))
})

describe("SftpChannel.fileName", () => {
  it("is the reference and version: no occurrence number or personal data, one file per notification version", () => {
    const name = SftpChannel.fileName(Fixtures.notification())
    expect(name).toBe("encompass-EG-1A2B-3C4D-5E6F-v1.json.asc")
    for (const value of Fixtures.personalData) expect(name).not.toContain(value)
    expect(SftpChannel.fileName(Fixtures.notification({ version: 2, reference: "EG-2B3C-4D5E-6F70" }))).not.toBe(name)
  })
})
