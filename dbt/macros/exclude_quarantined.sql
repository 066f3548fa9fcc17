{#
    Rows of a bronze relation that the quality step did not quarantine.

    The quality step writes every rejected bronze row to the quarantine table, keyed by
    (source, entity, _row_id); staging must not let those rows through. Both arguments are
    relations or import-CTE names, e.g.

        accepted as (
            {{ exclude_quarantined('source', 'quarantine', entity='items') }}
        ),
#}
{% macro exclude_quarantined(bronze, quarantine, entity) -%}
    select bronze_rows.*
    from {{ bronze }} as bronze_rows
    where not exists (
        select 1
        from {{ quarantine }} as quarantined
        where quarantined.source = bronze_rows._source
            and quarantined.entity = '{{ entity }}'
            and quarantined._row_id = bronze_rows._row_id
    )
{%- endmacro %}
