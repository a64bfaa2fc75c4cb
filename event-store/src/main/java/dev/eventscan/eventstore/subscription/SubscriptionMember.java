package dev.eventscan.eventstore.subscription;

import java.time.Instant;

/**
 * A node running a partitioned subscription, as its heartbeat shows it: live nodes share the
 * segments (see {@link Subscriptions#members(String)}).
 *
 * @param node the node's id, as {@link Subscriptions#node()} gives it there and owners show it
 * @param lastHeardAt when its last heartbeat was written (PostgreSQL's clock)
 */
public record SubscriptionMember(String node, Instant lastHeardAt) {}
