{#
    One row per key from an append-by-batch relation: the latest version wins.

    Bronze keeps every version of an ERP row (one per batch that extracted it) and exact
    duplicates (double postings, re-extracts). Ordering by updated_at, then _ingested_at,
    then _row_id makes the pick deterministic, so exact duplicates collapse to one row.
    Adds the helper column `_version_rank`; select the columns you keep explicitly.
#}
{% macro latest_per_key(relation, key_columns, order_by=none) -%}
    {%- set key_columns = [key_columns] if key_columns is string else key_columns -%}
    {%- set order_by = order_by or ['updated_at desc nulls last', '_ingested_at desc nulls last', '_row_id desc'] -%}
    select *
    from (
        select
            versions.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by {{ order_by | join(', ') }}
            ) as _version_rank
        from {{ relation }} as versions
    ) as ranked_versions
    where _version_rank = 1
{%- endmacro %}
