/**
 * YAML reading that keeps node positions, so a problem in a mapping file is reported at its key
 * path, line and column rather than as a bare "invalid" (the approach of isa-policy's agreement
 * loader; a plugin may not depend on that library).
 */
import type { Document, LineCounter as Lines } from "yaml"
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from "yaml"

export interface Problem {
  /** Dotted key path, e.g. `columns.child_dob`; empty for the document itself. */
  readonly path: string
  readonly line: number
  readonly column: number
  readonly message: string
}

export interface Source {
  readonly document: Document.Parsed
  readonly lines: Lines
  /** The document as plain data; undefined when it has problems or is empty. */
  readonly value: unknown
  readonly problems: ReadonlyArray<Problem>
}

type Path = ReadonlyArray<PropertyKey>

const format = (path: Path): string => path.map(String).join(".")

const keyOf = (key: unknown): string | undefined => (isScalar(key) ? String(key.value) : undefined)

const start = (node: unknown): number | undefined => (isNode(node) ? node.range?.[0] : undefined)
const end = (node: unknown): number | undefined => (isNode(node) ? node.range?.[2] : undefined)

const position = (lines: Lines, offset: number) => {
  const { col, line } = lines.linePos(offset)
  return { line, column: col }
}

/** The key path of the deepest node whose text spans `offset`. */
const pathAt = (node: unknown, offset: number, path: Array<string | number>): Array<string | number> => {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = keyOf(pair.key)
      const from = start(pair.key)
      const to = end(pair.value) ?? end(pair.key)
      if (key !== undefined && from !== undefined && to !== undefined && from <= offset && offset <= to) {
        return pathAt(pair.value, offset, [...path, key])
      }
    }
  }
  if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const from = start(item)
      const to = end(item)
      if (from !== undefined && to !== undefined && from <= offset && offset <= to) return pathAt(item, offset, [...path, i])
    }
  }
  return path
}

/** Parses the text; syntax errors, warnings (a repeated key among them) and alias abuse become located problems. */
export const read = (text: string): Source => {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const problems = [...document.errors, ...document.warnings].map((e) => ({
    path: format(pathAt(document.contents, e.pos[0], [])),
    ...position(lines, e.pos[0]),
    message: e.message
  }))
  if (problems.length > 0) return { document, lines, value: undefined, problems }
  try {
    return { document, lines, value: document.toJS({ maxAliasCount: 100 }), problems }
  } catch (e) {
    const message = e instanceof Error ? e.message : "could not be read"
    return { document, lines, value: undefined, problems: [{ path: "", line: 1, column: 1, message }] }
  }
}

/** Where `path` is written: its key when present, otherwise the nearest ancestor that is. */
const locate = (source: Source, path: Path) => {
  let node: unknown = source.document.contents
  let offset = start(node) ?? 0
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => keyOf(p.key) === String(segment))
      if (pair === undefined) break
      offset = start(pair.key) ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
      node = node.items[segment]
      offset = start(node) ?? offset
    } else {
      break
    }
  }
  return position(source.lines, offset)
}

/** Schema issues at their key path and position; several at one path (a union's) become one. */
export const locateAll = (
  source: Source,
  issues: ReadonlyArray<{ readonly path: Path; readonly message: string }>
): Array<Problem> => {
  const byPath = new Map<string, { readonly path: Path; readonly messages: Array<string> }>()
  for (const issue of issues) {
    const key = format(issue.path)
    const entry = byPath.get(key) ?? { path: issue.path, messages: [] }
    byPath.set(key, entry)
    if (!entry.messages.includes(issue.message)) entry.messages.push(issue.message)
  }
  return Array.from(byPath.values(), ({ messages, path }) => ({
    path: format(path),
    ...locate(source, path),
    message: messages.join("; or ")
  }))
}
