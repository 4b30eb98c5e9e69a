// Package server assembles Gatehouse's HTTP surface: the route table, the
// middleware (security headers, request ids, access log, panic recovery) and
// the wiring of the protocol (server/oauth) and page (server/ui) handlers.
//
// It holds no business rules of its own; it must not import GORM.
package server
