import { Schema } from "effect"

/** A UK postal address as the source recorded it; `uprn` when the force's system has one. */
export class Address extends Schema.Class<Address>("Address")({
  lines: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(400)),
  postcode: Schema.optional(
    Schema.Trimmed.pipe(Schema.pattern(/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i, { message: () => "not a UK postcode" }))
  ),
  uprn: Schema.optional(Schema.String.pipe(Schema.pattern(/^\d{1,12}$/)))
}) {}
