export * as AuditAnchor from "./AuditAnchor.js"
export * as AuditEvent from "./AuditEvent.js"
export * as AuditLog from "./AuditLog.js"
export * as Consultation from "./Consultation.js"
