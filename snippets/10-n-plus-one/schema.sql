-- 300 users, 2000 posts; every 7th post has no author (its account was deleted: ON DELETE SET NULL).
CREATE TABLE users (
    id    bigint PRIMARY KEY,
    name  text NOT NULL,
    email text NOT NULL UNIQUE
);
CREATE TABLE posts (
    id        bigint PRIMARY KEY,
    author_id bigint REFERENCES users (id) ON DELETE SET NULL,
    title     text NOT NULL
);
CREATE INDEX posts_author_id_idx ON posts (author_id);

INSERT INTO users
SELECT i, 'user ' || i, format('user%s@example.com', i) FROM generate_series(1, 300) AS i;
INSERT INTO posts
SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE 1 + i * 37 % 300 END, 'post ' || i
FROM generate_series(1, 2000) AS i;
ANALYZE users, posts;
