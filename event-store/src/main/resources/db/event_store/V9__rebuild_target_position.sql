-- A rebuild's target as a whole position: event ids alone are not in the global order (a younger
-- transaction can hold a smaller id), so "id >= target id" could mark a rebuild finished early.
-- A rebuild started before this migration keeps comparing by id (its transaction id is NULL).
ALTER TABLE ${schema}.projections ADD COLUMN rebuild_target_transaction_id xid8;
