/**
 * Describes a Schema decoding failure by field path and expectation only. Effect's own
 * formatters quote the offending value ("Expected …, actual "Jane""), which would copy personal
 * data into logs and error messages; these descriptions never contain the value.
 */
import { Option, ParseResult, SchemaAST } from "effect"

export interface DecodeIssue {
  /** Dotted path of the failing field, e.g. `children.0.person.dateOfBirth`; empty for the root. */
  readonly path: string
  readonly message: string
}

const describeAst = (ast: SchemaAST.AST): string =>
  Option.getOrElse(SchemaAST.getDescriptionAnnotation(ast), () =>
    Option.getOrElse(SchemaAST.getTitleAnnotation(ast), () => String(ast))
  )

/** A custom message annotation, when the schema's author wrote one (ours never quote values). */
const customMessage = (issue: ParseResult.ParseIssue): string | undefined => {
  if (!("ast" in issue)) return undefined
  const annotation = SchemaAST.getMessageAnnotation(issue.ast)
  if (Option.isNone(annotation)) return undefined
  const out = annotation.value(issue)
  return typeof out === "string" ? out : undefined
}

const walk = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>, out: Array<DecodeIssue>): void => {
  const at = path.map(String).join(".")
  const custom = customMessage(issue)
  switch (issue._tag) {
    case "Pointer": {
      const segment = Array.isArray(issue.path) ? issue.path : [issue.path]
      return walk(issue.issue, [...path, ...segment], out)
    }
    case "Composite": {
      const issues = Array.isArray(issue.issues) ? issue.issues : [issue.issues]
      for (const inner of issues as ReadonlyArray<ParseResult.ParseIssue>) walk(inner, path, out)
      return
    }
    case "Refinement":
      // `From`: the value failed a rule beneath this one, which is the one to report.
      if (issue.kind === "From") return walk(issue.issue, path, out)
      return void out.push({ path: at, message: custom ?? `expected ${describeAst(issue.ast)}` })
    case "Transformation":
      if (custom !== undefined) return void out.push({ path: at, message: custom })
      return walk(issue.issue, path, out)
    case "Type":
      return void out.push({ path: at, message: custom ?? `expected ${describeAst(issue.ast)}` })
    case "Missing":
      return void out.push({ path: at, message: "is missing" })
    case "Unexpected":
      return void out.push({ path: at, message: "is not an expected field" })
    case "Forbidden":
      return void out.push({ path: at, message: "could not be checked" })
  }
}

/** Lists every failing field of a decoding error, without the values. */
export const fromParseError = (error: ParseResult.ParseError): ReadonlyArray<DecodeIssue> => {
  const out: Array<DecodeIssue> = []
  walk(error.issue, [], out)
  return out
}

/** One line for humans: `children.0.person.dateOfBirth: not a real calendar date; …`. */
export const format = (issues: ReadonlyArray<DecodeIssue>): string =>
  issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")
