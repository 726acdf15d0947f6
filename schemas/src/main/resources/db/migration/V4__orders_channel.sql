-- Order v2 adds the sales channel; rows written before it came from the web.
ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT 'web';
