/**
 * A stored body sealed per subject: the parts that are about no one child (the occurrence's
 * address, circumstances, the envelope) under the occurrence's key, each child's part under that
 * child's key (`SubjectKeys`). The AAD names the row and the child, so a part cannot be moved to
 * another row or child unnoticed. What stays in the clear is ids only: source, occurrence, the
 * children's references. A child's part may be removed (`part: null`) from one row alone — a
 * setting's copy of a child who has left it (`LeftSetting`) — while the rest of the row still opens.
 */
import type { SqlError } from "@encompass/store"
import type { Sql, Vault } from "@encompass/store"
import { Effect, Either, Option, Schema } from "effect"
import * as SubjectKeys from "../SubjectKeys.js"

export const Envelope = Schema.Struct({
  sealed: Schema.Literal(1),
  source: Schema.String,
  occurrence: Schema.String,
  /** Names the row (`incident:…`, `notification:…`): bound to every part as AAD. */
  context: Schema.String,
  shared: Schema.String,
  children: Schema.Array(Schema.Struct({ ref: Schema.String, part: Schema.NullOr(Schema.String) }))
})
export type Envelope = typeof Envelope.Type

export interface Document {
  readonly shared: unknown
  readonly children: ReadonlyArray<{ readonly ref: string; readonly value: unknown }>
}

/** A document as read back: `children` holds the parts still there, `removed` the refs of those taken out. */
export interface Opened extends Document {
  readonly removed: ReadonlyArray<string>
}

const text = new TextEncoder()
const childContext = (context: string, ref: string) => `${context}/child/${ref}`

export const seal = (
  at: { readonly source: string; readonly occurrence: string; readonly context: string },
  document: Document
): Effect.Effect<Envelope, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.gen(function*() {
    const subject = (child: string): SubjectKeys.Subject => ({ source: at.source, occurrence: at.occurrence, child })
    const own = yield* SubjectKeys.keyFor(subject(""))
    const children = yield* Effect.forEach(document.children, ({ ref, value }) =>
      Effect.map(SubjectKeys.keyFor(subject(ref)), (key) => ({
        ref,
        part: Buffer.from(key.seal(text.encode(JSON.stringify(value)), childContext(at.context, ref))).toString("base64")
      })))
    return {
      sealed: 1,
      source: at.source,
      occurrence: at.occurrence,
      context: at.context,
      shared: Buffer.from(own.seal(text.encode(JSON.stringify(document.shared)), at.context)).toString("base64"),
      children
    } as const
  })

/** Why a sealed body cannot be read. */
export type Unreadable =
  | { readonly _tag: "Shredded" }
  | { readonly _tag: "Corrupt"; readonly detail: string }

const decodeEnvelope = Schema.decodeUnknownEither(Envelope)

/** The document, or why not: a key was shredded (retention), or the body does not authenticate. */
export const open = (
  body: unknown,
  context: string
): Effect.Effect<Either.Either<Opened, Unreadable>, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.gen(function*() {
    const envelope = decodeEnvelope(body)
    if (Either.isLeft(envelope)) return Either.left({ _tag: "Corrupt", detail: "the stored body is not a sealed document" } as const)
    const { children, occurrence, shared, source } = envelope.right
    // The row's own context, not the one the body claims: a body copied from another row does not open.
    const part = (child: string, sealed: string, aad: string): Effect.Effect<Either.Either<unknown, Unreadable>, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
      SubjectKeys.existing({ source, occurrence, child }).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(Either.left<Unreadable>({ _tag: "Shredded" })),
          onSome: (key) =>
            Effect.map(key.open(Buffer.from(sealed, "base64"), aad), (bytes): Either.Either<unknown, Unreadable> =>
              Either.right(JSON.parse(Buffer.from(bytes).toString("utf8"))))
        })),
        Effect.catchTag("VaultError", (e) => Effect.succeed(Either.left<Unreadable>({ _tag: "Corrupt", detail: e.detail })))
      )
    const opened = yield* part("", shared, context)
    if (Either.isLeft(opened)) return Either.left(opened.left)
    const values: Array<{ readonly ref: string; readonly value: unknown }> = []
    const removed: Array<string> = []
    for (const child of children) {
      if (child.part === null) {
        removed.push(child.ref)
        continue
      }
      const value = yield* part(child.ref, child.part, childContext(context, child.ref))
      if (Either.isLeft(value)) return Either.left(value.left)
      values.push({ ref: child.ref, value: value.right })
    }
    return Either.right({ shared: opened.right, children: values, removed })
  })

/**
 * The body with these children's parts removed, the rest untouched (each part is sealed on its
 * own, so nothing is re-encrypted); none when the body is not a sealed document.
 */
export const withoutChildren = (body: unknown, refs: ReadonlySet<string>): Option.Option<Envelope> =>
  Option.map(Either.getRight(decodeEnvelope(body)), (envelope) => ({
    ...envelope,
    children: envelope.children.map((child) => (refs.has(child.ref) ? { ref: child.ref, part: null } : child))
  }))

/** The children whose parts a body still holds (none when it is not a sealed document). */
export const heldChildren = (body: unknown): ReadonlySet<string> =>
  new Set(Either.match(decodeEnvelope(body), {
    onLeft: () => [],
    onRight: (envelope) => envelope.children.filter((c) => c.part !== null).map((c) => c.ref)
  }))
