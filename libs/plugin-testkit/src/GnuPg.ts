/**
 * The real `gpg` for channel tests (DESIGN.md §8): recipients open what a channel sends with
 * GnuPG 2.2, so a test makes the recipient's key with it — v4 curve25519 (`future-default`:
 * ed25519 with a cv25519 subkey) or RSA-3072 — and decrypts with it. Keys are made at test time
 * in a throwaway home; nothing is downloaded.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const GPG = "/usr/bin/gpg"

export const missing = fs.existsSync(GPG) ? [] : [GPG]
/** Skipped only on a developer machine without GnuPG; in CI (`CI=true`) a missing gpg fails the tests. */
export const runGpgTests = missing.length === 0 || process.env["CI"] === "true"

export interface Result {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

const run = (args: ReadonlyArray<string>) =>
  Effect.async<Result>((resume) => {
    execFile(GPG, args, { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) =>
      resume(Effect.succeed({ exitCode: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr })))
  })

const ok = (args: ReadonlyArray<string>) =>
  Effect.flatMap(run(args), (result) =>
    result.exitCode === 0 ? Effect.succeed(result.stdout) : Effect.dieMessage(`gpg ${args.join(" ")} failed: ${result.stderr}`))

export interface Key {
  /** As `gpg --with-colons` prints it: 40 upper-case hex digits. */
  readonly fingerprint: string
  /** `gpg --armor --export`: what the recipient publishes. */
  readonly publicKey: string
}

export interface Home {
  readonly dir: string
  /** `cv25519`: ed25519 primary, cv25519 encryption subkey. `rsa3072`: RSA-3072 primary and encryption subkey. */
  readonly generate: (options: {
    readonly kind: "cv25519" | "rsa3072"
    readonly uid: string
    /** Made on 1 January 2020, expiring a day later: expired now. */
    readonly expired?: boolean
  }) => Effect.Effect<Key>
  /** Imports the revocation certificate gpg made with the key, and gives the revoked public key. */
  readonly revoke: (fingerprint: string) => Effect.Effect<Key>
  /** `gpg --decrypt FILE` with this home's secret keys. */
  readonly decrypt: (file: string) => Effect.Effect<Result>
  /** `gpg --decrypt FILE` with a passphrase (no secret key involved). */
  readonly decryptWithPassword: (file: string, passphrase: string) => Effect.Effect<Result>
}

/** A throwaway GnuPG home; its agent is stopped and the directory removed when the scope closes. */
export const home: Effect.Effect<Home, never, Scope.Scope> = Effect.gen(function*() {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eg-gpg-"))),
    (dir) =>
      Effect.async<void>((resume) => {
        execFile("/usr/bin/gpgconf", ["--homedir", dir, "--kill", "gpg-agent"], () => {
          fs.rmSync(dir, { recursive: true, force: true })
          resume(Effect.void)
        })
      })
  )
  const base = ["--homedir", dir, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
  // gpg processes writing one keyring at once can fail ("no writable public keyring found": seen
  // about once in 15 for three key generations in a fresh home), so writes take turns.
  const writes = yield* Effect.makeSemaphore(1)

  const exported = (fingerprint: string) =>
    Effect.map(ok([...base, "--armor", "--export", fingerprint]), (publicKey): Key => ({ fingerprint, publicKey }))

  const generate: Home["generate"] = ({ expired = false, kind, uid }) =>
    writes.withPermits(1)(Effect.gen(function*() {
      const faked = expired ? ["--faked-system-time", "20200101T000000!"] : []
      const expiry = expired ? "1d" : "never"
      if (kind === "cv25519") {
        yield* ok([...base, ...faked, "--quick-gen-key", uid, "future-default", "default", expiry])
      } else {
        yield* ok([...base, ...faked, "--quick-gen-key", uid, "rsa3072", "sign,cert", expiry])
      }
      const listing = yield* ok([...base, "--with-colons", "--list-keys", uid])
      const fingerprint = listing.split("\n").find((line) => line.startsWith("fpr:"))?.split(":")[9] ?? ""
      if (kind === "rsa3072") yield* ok([...base, ...faked, "--quick-add-key", fingerprint, "rsa3072", "encr", expiry])
      return yield* exported(fingerprint)
    }))

  const revoke: Home["revoke"] = (fingerprint) =>
    writes.withPermits(1)(Effect.gen(function*() {
      // gpg stores the certificate with its armour line prefixed by ':' so it cannot be imported by accident.
      const certificate = path.join(dir, "openpgp-revocs.d", `${fingerprint}.rev`)
      const usable = path.join(dir, `${fingerprint}.rev.asc`)
      fs.writeFileSync(usable, fs.readFileSync(certificate, "utf8").replace(/^:-----BEGIN/m, "-----BEGIN"))
      yield* ok([...base, "--import", usable])
      return yield* exported(fingerprint)
    }))

  return {
    dir,
    generate,
    revoke,
    decrypt: (file) => run([...base, "--decrypt", file]),
    decryptWithPassword: (file, passphrase) =>
      run(["--homedir", dir, "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase, "--decrypt", file])
  }
})
