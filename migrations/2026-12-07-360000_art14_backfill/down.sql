-- The rows added are indistinguishable from those the service keeps; they stay (the registers
-- migration's own down drops the table).
SELECT 1;
