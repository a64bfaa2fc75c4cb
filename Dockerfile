# Build stage: the same Maven build as everywhere else, tests skipped (CI runs them).
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package -pl web-service -am

# Runtime stage: a JRE and the one jar, as a non-root user.
FROM eclipse-temurin:17-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app eventscan && mkdir -p /app/data && chown -R eventscan /app
WORKDIR /app
COPY --from=build /src/web-service/target/web-service.jar /app/web-service.jar
USER eventscan
# Listening on every interface of the container: the service refuses to start unless API_TOKEN
# is given (docker run -e API_TOKEN=..., or compose's .env).
ENV PORT=8080 BIND_ADDRESS=0.0.0.0 DATA_DIR=/app/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["java", "-jar", "/app/web-service.jar"]
