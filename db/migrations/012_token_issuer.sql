-- Who made each API token (issue 18, point 5). A token made by its owner has issued_by = user_id;
-- one an admin made for someone else names the admin, and every action through it is recorded with
-- both (issued by, on behalf of) and may not approve or execute disposals nor read closed books.
-- Tokens made before this column existed were made by admins and their issuer was not recorded:
-- NULL, and they count as made on their user's behalf (fail closed).
ALTER TABLE api_tokens ADD COLUMN issued_by uuid REFERENCES users (id);
