package dev.eventscan.scan.scoring;

import java.util.List;

/**
 * How exposed a target looks, 0 (nothing found) to 100, with the parts it is made of.
 *
 * @param confidence 1.0 when every step succeeded at the first attempt; lowered by failed attempts
 *     and by domains whose subdomains could not be discovered
 */
public record ExposureScore(int score, double confidence, List<Component> breakdown) {
  public ExposureScore {
    breakdown = List.copyOf(breakdown);
  }

  /** One part of the score: its points and what earned them. */
  public record Component(String name, int points, String detail) {}
}
