-- 100 000 users and 20 000 posts, generated without random(): every run plans alike.
-- Autovacuum is off on both tables, so the visibility map changes only when we run VACUUM.
CREATE TABLE users (
    id         bigint PRIMARY KEY,
    first_name text        NOT NULL,
    last_name  text        NOT NULL,
    email      text        NOT NULL,
    status     text        NOT NULL,
    api_key    text        NOT NULL,
    signup_at  timestamptz NOT NULL,
    home       point       NOT NULL
) WITH (autovacuum_enabled = off);

INSERT INTO users
SELECT i,
       'first' || i % 101,                                      -- 101 first names, ~990 users each
       'last' || i % 1000,                                      -- 1000 last names, 100 users each
       format('User%s.Last%s@Example.com', i, i % 1000),        -- unique, mixed case
       CASE WHEN i % 50 = 0 THEN 'active' ELSE 'dormant' END,   -- 2 % are active
       md5('key' || i),                                         -- an opaque token
       timestamptz '2024-01-01 00:00+00' + i * interval '5 minutes',
       point(i % 317, i % 331)                                  -- a spot on a 317 x 331 map
FROM generate_series(1, 100000) AS i;

CREATE TABLE posts (
    id   bigint PRIMARY KEY,
    body text NOT NULL
) WITH (autovacuum_enabled = off);

INSERT INTO posts
SELECT i, format('%s %s tuning notes: %s',
                 (ARRAY['database', 'cache', 'queue', 'network'])[1 + i % 4],
                 (ARRAY['performance', 'latency', 'reliability'])[1 + i % 3],
                 (ARRAY['indexes', 'replicas', 'mysql', 'partitions', 'pooling'])[1 + i % 5])
FROM generate_series(1, 20000) AS i;

ANALYZE users, posts;
