export * as ActiveAgreement from "./ActiveAgreement.js"
export * as Ingest from "./Ingest.js"
export * as IngestReport from "./IngestReport.js"
export * as Outbox from "./Outbox.js"
