/**
 * SMTP account passwords are kept as scrypt hashes in PHC string format
 * (`$scrypt$ln=15,r=8,p=1$<salt>$<key>`, unpadded base64), never in plaintext: the region config
 * is a file reviewed in the repository (CONVENTIONS 10), and a copy of it must not be a login.
 */
import { Effect, Option, Redacted } from "effect"
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto"

export interface ScryptHash {
  /** log2 of scrypt's cost N. */
  readonly ln: number
  readonly r: number
  readonly p: number
  readonly salt: Buffer
  readonly key: Buffer
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/

/** ln=15, r=8: 32 MiB and tens of milliseconds per check, so guessing is slow but a login is not. */
export const defaultCost = 15

const unpadded = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "")

/** The hash, or none when the text is not a PHC scrypt string with sane parameters. */
export const parse = (text: string): Option.Option<ScryptHash> => {
  const match = PHC.exec(text)
  if (match === null) return Option.none()
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const salt = Buffer.from(match[4] ?? "", "base64")
  const key = Buffer.from(match[5] ?? "", "base64")
  const sane = ln >= 14 && ln <= 20 && r >= 1 && r <= 16 && p >= 1 && p <= 4 && salt.length >= 16 && key.length >= 32
  return sane ? Option.some({ ln, r, p, salt, key }) : Option.none()
}

const derive = (password: string, hash: Omit<ScryptHash, "key">, length: number) =>
  Effect.async<Buffer>((resume) => {
    // scrypt needs 128·N·r bytes; the default ceiling (32 MiB) would refuse ln=15, r=8.
    const options = { N: 2 ** hash.ln, r: hash.r, p: hash.p, maxmem: 256 * 2 ** hash.ln * hash.r }
    scrypt(password, hash.salt, length, options, (error, key) => resume(error === null ? Effect.succeed(key) : Effect.die(error)))
  })

/** Whether `password` matches, in constant time for a given hash. Runs off the event loop. */
export const verify = (password: string, hash: ScryptHash): Effect.Effect<boolean> =>
  Effect.map(derive(password, hash, hash.key.length), (key) => timingSafeEqual(key, hash.key))

/** Hashes a new account password for the config file. */
export const hash = (password: Redacted.Redacted<string>, ln: number = defaultCost): Effect.Effect<Redacted.Redacted<string>> =>
  Effect.gen(function*() {
    const params = { ln, r: 8, p: 1, salt: randomBytes(16) }
    const key = yield* derive(Redacted.value(password), params, 32)
    return Redacted.make(`$scrypt$ln=${ln},r=8,p=1$${unpadded(params.salt)}$${unpadded(key)}`)
  })

/**
 * A hash no password matches, with the cost of `like`: checked for unknown user names so that a
 * login's timing does not tell which accounts exist.
 */
export const decoy = (like: ScryptHash): ScryptHash => ({ ...like, salt: randomBytes(like.salt.length), key: randomBytes(like.key.length) })
