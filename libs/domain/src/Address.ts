import { Schema } from "effect"
import { noFormula } from "./SpreadsheetCell.js"

/**
 * A UK postal address as the source recorded it; `uprn` when the force's system has one. Lines a
 * spreadsheet would run (`@cmd|…`) are refused, as for names.
 */
export class Address extends Schema.Class<Address>("Address")({
  lines: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(400), noFormula),
  postcode: Schema.optional(
    Schema.Trimmed.pipe(Schema.pattern(/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i, { message: () => "not a UK postcode" }))
  ),
  uprn: Schema.optional(Schema.String.pipe(Schema.pattern(/^\d{1,12}$/)))
}) {}
