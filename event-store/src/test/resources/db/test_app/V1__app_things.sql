CREATE TABLE app_things (id bigint PRIMARY KEY, name text NOT NULL);
