/** The PostgreSQL implementation of the event store. Not API: it may change in any release. */
package dev.eventscan.eventstore.internal;
