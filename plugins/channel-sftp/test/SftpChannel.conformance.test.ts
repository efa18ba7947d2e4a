/**
 * The plugin-testkit channel suite (libs/plugin-testkit/src/ChannelConformance.ts) against a real
 * OpenSSH sshd: a valid manifest, invalid configs fail to build, one deliver is one attempt, and
 * no error holds a secret or personal data.
 */
import { ChannelConformance, OpenSshd } from "@encompass/plugin-testkit"
import { describe } from "@effect/vitest"
import * as path from "node:path"
import { SftpChannel, SftpChannelConfig } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as Peer from "./support/Peer.js"

const otherHostKey = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
const stand = { port: 22, user: "encompass", clientKey: "/etc/encompass/keys/council_ed25519", hostKey: otherHostKey }

describe.skipIf(!OpenSshd.runSshTests)(OpenSshd.titled("SftpChannel conformance"), () => {
  ChannelConformance.suite({
    manifest: SftpChannel.manifest,
    config: SftpChannelConfig.SftpChannelConfig,
    make: SftpChannel.make,
    peer: Peer.start,
    receptions: (peer) => peer.collect(),
    validConfig: (peer) => Fixtures.encoded(peer.sshd, peer.folder),
    invalidConfigs: [
      { name: "no pinned host key", config: { ...Fixtures.encoded(stand, "/inbound"), hostKey: undefined } },
      { name: "a host key not in OpenSSH's SHA256 form", config: Fixtures.encoded(stand, "/inbound", { hostKey: "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48" }) },
      { name: "a password under 12 characters", config: Fixtures.encoded(stand, "/inbound", { passwords: { [`ehe-team:${Fixtures.council}`]: "short-pw" } }) },
      { name: "a password keyed by something that is not a recipient key", config: Fixtures.encoded(stand, "/inbound", { passwords: { "E06000055": Fixtures.password } }) },
      { name: "a port out of range", config: Fixtures.encoded({ ...stand, port: 70_000 }, "/inbound") },
      { name: "a schema version this channel does not know", config: Fixtures.encoded(stand, "/inbound", { version: 2 }) }
    ],
    failingConfigs: (peer) => [
      { name: "a changed host key", config: Fixtures.encoded(peer.sshd, peer.folder, { hostKey: otherHostKey }) },
      { name: "a client key the server does not accept", config: Fixtures.encoded(peer.sshd, peer.folder, { username: "nobody-here" }) },
      { name: "a port nothing listens on", config: Fixtures.encoded({ ...peer.sshd, port: 1 }, peer.folder) },
      { name: "a remote folder that does not exist", config: Fixtures.encoded(peer.sshd, path.join(peer.folder, "missing")) },
      { name: "a private key file that does not exist", config: Fixtures.encoded(peer.sshd, peer.folder, { privateKey: path.join(peer.folder, "no-key") }) }
    ],
    notification: Fixtures.authorized(),
    secrets: [Fixtures.password],
    personalData: Fixtures.personalData
  })
})
