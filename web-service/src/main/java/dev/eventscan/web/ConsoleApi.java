package dev.eventscan.web;

import dev.eventscan.eventstore.EventStore;
import dev.eventscan.eventstore.global.EventFilter;
import dev.eventscan.eventstore.position.Position;
import dev.eventscan.eventstore.stream.RecordedEvent;
import dev.eventscan.eventstore.stream.StreamInfo;
import dev.eventscan.eventstore.stream.StreamQuery;
import dev.eventscan.eventstore.subscription.ParkedFailure;
import dev.eventscan.eventstore.subscription.Subscriptions;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The console's reads: streams newest first, the global log paged by position, a parked failure
 * with its event, event rates and lag history. Built on the store's public API only.
 */
final class ConsoleApi {
  static final int MAX_PAGE = 500;

  private final EventStore store;
  private final Subscriptions subscriptions;
  private final EventRates rates;
  private final LagHistory lagHistory;

  ConsoleApi(
      EventStore store, Subscriptions subscriptions, EventRates rates, LagHistory lagHistory) {
    this.store = store;
    this.subscriptions = subscriptions;
    this.rates = rates;
    this.lagHistory = lagHistory;
  }

  void register(RoutesConfig routes) {
    routes.get("/api/streams", this::streams);
    routes.get("/api/events", this::log);
    routes.get("/api/events/failures/{id}", this::failure);
    routes.get("/api/events/rates", this::rates);
    routes.get("/api/events/lag-history", ctx -> ctx.json(Map.of("samples", lagHistory.samples())));
  }

  /** {@code ?prefix=&category=&limit=&cursor=}: newest first; {@code nextCursor} continues. */
  private void streams(Context ctx) {
    int limit = QueryParams.intParam(ctx, "limit", 50, 1, MAX_PAGE);
    StreamQuery query =
        StreamQuery.newestFirst(limit)
            .withIdPrefix(QueryParams.optional(ctx, "prefix"))
            .inCategory(QueryParams.optional(ctx, "category"))
            .after(streamCursor(QueryParams.optional(ctx, "cursor")));
    List<StreamInfo> streams = store.listStreams(query);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("streams", streams.stream().map(ConsoleApi::stream).toList());
    body.put(
        "nextCursor",
        streams.size() < limit ? null : encode(StreamQuery.Cursor.after(streams.get(limit - 1))));
    ctx.json(body);
  }

  static Map<String, Object> stream(StreamInfo info) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("streamId", info.streamId());
    view.put("category", dev.eventscan.eventstore.stream.StreamIds.category(info.streamId()));
    view.put("version", info.version());
    view.put("createdAt", info.createdAt());
    view.put("updatedAt", info.updatedAt());
    view.put("deletedAt", info.deletedAt().orElse(null));
    return view;
  }

  private static String encode(StreamQuery.Cursor cursor) {
    String text = cursor.createdAt() + "|" + cursor.streamId();
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static StreamQuery.Cursor streamCursor(String cursor) {
    if (cursor == null) {
      return null;
    }
    try {
      String text = QueryParams.strictUtf8(Base64.getUrlDecoder().decode(cursor.strip()));
      int bar = text.indexOf('|');
      if (bar > 0) {
        return new StreamQuery.Cursor(
            Instant.parse(text.substring(0, bar)), text.substring(bar + 1));
      }
    } catch (IllegalArgumentException
        | DateTimeParseException
        | java.nio.charset.CharacterCodingException
        | dev.eventscan.eventstore.InvalidInputException e) {
      // the same answer as a cursor without a bar, below
    }
    throw new ApiException(400, "invalid_query", "cursor is not one this service handed out");
  }

  /**
   * The global log, newest first: {@code ?before=POSITION} pages back, {@code ?after=POSITION}
   * forward; {@code type} and {@code category} take comma-separated names. {@code older} and {@code
   * newer} are the positions to continue from, null where there is nothing more.
   */
  private void log(Context ctx) {
    int limit = QueryParams.intParam(ctx, "limit", 50, 1, MAX_PAGE);
    EventFilter filter = filter(ctx);
    Position before = position(ctx, "before");
    Position after = position(ctx, "after");
    if (before != null && after != null) {
      throw ApiException.badRequest("give before or after, not both");
    }
    List<RecordedEvent> events;
    boolean moreOlder;
    boolean moreNewer;
    if (after != null) {
      var page = store.readAll(after, filter, limit);
      events = new ArrayList<>(page.events());
      java.util.Collections.reverse(events);
      moreOlder = true;
      moreNewer = !page.endOfLog();
    } else {
      events = store.readBackwards(before == null ? Position.END : before, filter, limit);
      moreOlder = events.size() == limit;
      moreNewer = before != null;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("events", events.stream().map(Json::eventDetail).toList());
    body.put(
        "older",
        moreOlder && !events.isEmpty()
            ? events.get(events.size() - 1).position().toString()
            : null);
    body.put("newer", moreNewer && !events.isEmpty() ? events.get(0).position().toString() : null);
    ctx.json(body);
  }

  private static EventFilter filter(Context ctx) {
    List<String> types = names(QueryParams.optional(ctx, "type"));
    List<String> categories = names(QueryParams.optional(ctx, "category"));
    return new EventFilter(java.util.Set.copyOf(types), java.util.Set.copyOf(categories));
  }

  private static List<String> names(String commaSeparated) {
    if (commaSeparated == null) {
      return List.of();
    }
    List<String> names =
        java.util.Arrays.stream(commaSeparated.split(","))
            .map(String::strip)
            .filter(name -> !name.isEmpty())
            .distinct()
            .toList();
    if (names.size() > 50) {
      throw ApiException.badRequest("at most 50 names per filter");
    }
    return names;
  }

  private static Position position(Context ctx, String name) {
    String text = QueryParams.optional(ctx, name);
    return text == null ? null : Position.parse(text.strip());
  }

  /** A parked failure with the event it failed on (internals: the guard asks for the token). */
  private void failure(Context ctx) {
    ParkedFailure failure = subscriptions.failure(MonitoringApi.failureId(ctx));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("failure", failure);
    body.put("event", eventAt(failure).map(Json::eventDetail).orElse(null));
    ctx.json(body);
  }

  /** The event at a position: the one right after the position just before it. */
  private Optional<RecordedEvent> eventAt(ParkedFailure failure) {
    Position at = failure.position();
    if (at.eventId() == 0) {
      return Optional.empty();
    }
    Position justBefore = new Position(at.transactionId(), at.eventId() - 1);
    return store.readAll(justBefore, EventFilter.all(), 1).events().stream()
        .filter(event -> event.eventId().equals(failure.eventId()))
        .findFirst();
  }

  /** {@code ?minutes=1..120&by=category|type}: events per 10-second bucket, oldest first. */
  private void rates(Context ctx) {
    int minutes = QueryParams.intParam(ctx, "minutes", 15, 1, 120);
    String by = Optional.ofNullable(QueryParams.optional(ctx, "by")).orElse("category");
    if (!by.equals("category") && !by.equals("type")) {
      throw ApiException.badRequest("by must be category or type");
    }
    ctx.json(rates.series(Duration.ofMinutes(minutes), by.equals("type"), Instant.now()));
  }
}
