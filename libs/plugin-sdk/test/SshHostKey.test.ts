import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { SshHostKey } from "../src/index.js"

// Public keys and the fingerprints `ssh-keygen -lf` printed for them.
const vectors = [
  {
    blob: "AAAAC3NzaC1lZDI1NTE5AAAAIIXZvVB7zeaDBaHDAWOvAusCTj8nwUP29GLWuLGxsWeb",
    type: "ssh-ed25519",
    fingerprint: "SHA256:x9LN9BkDtL8x4E7JXIbCT7QrB3UX0KX6ClXUAF3FUlg"
  },
  {
    blob:
      "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDcbdfA9qG2XUGG6mrzUApvaMRRkrgrhTtzBIzuvb8zOgBkZPYjeXxxjIbSFEeSrQ9gUPpSyK6qRck6yZGrevmg=",
    type: "ecdsa-sha2-nistp256",
    fingerprint: "SHA256:uw9tQVBGlkLCCVanMJbVKZemT1URjUxka6SJUh0L1ZM"
  }
]

describe("SshHostKey", () => {
  it.each(vectors)("the fingerprint is what ssh-keygen -lf prints for $type", ({ blob, type, fingerprint: expected }) => {
    const key = Buffer.from(blob, "base64")
    expect(SshHostKey.fingerprint(key)).toBe(expected)
    expect(SshHostKey.keyType(key)).toBe(type)
  })

  it("base64 padding does not make a different key", () => {
    expect(SshHostKey.sameKey(`${vectors[0]?.fingerprint}=`, vectors[0]?.fingerprint ?? "")).toBe(true)
    expect(SshHostKey.sameKey(vectors[0]?.fingerprint ?? "", vectors[1]?.fingerprint ?? "")).toBe(false)
  })

  it("a pin is OpenSSH's SHA256 form only", () => {
    const decode = Schema.decodeUnknownEither(SshHostKey.Pinned)
    expect(Either.isRight(decode(vectors[0]?.fingerprint))).toBe(true)
    expect(Either.isLeft(decode("MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"))).toBe(true)
  })
})
