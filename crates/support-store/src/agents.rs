//! `support-store agents`: the `agents` table from the route tool's agents
//! file, read and checked by `support-route` itself.

use postgres::Client;
use serde::Serialize;
use support_agents::Roster;

use crate::StoreError;

/// What loading an agents file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentsReport {
    /// Agents inserted or updated from the file (all active).
    pub loaded: u64,
    /// Agents stored before but missing from the file, now inactive.
    pub deactivated: u64,
}

/// Upserts every agent of `roster` as active; agents not in it become inactive
/// (kept: their tickets and figures still name them).
pub fn load_agents(client: &mut Client, roster: &Roster) -> Result<AgentsReport, StoreError> {
    crate::migrate::ensure_current(client)?;
    let mut tx = client.transaction()?;
    let upsert = tx.prepare(
        "INSERT INTO agents (id, name, skills, languages, capacity, current_load, satisfaction, active, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::float8::numeric, true, now())
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, skills = EXCLUDED.skills,
             languages = EXCLUDED.languages, capacity = EXCLUDED.capacity,
             current_load = EXCLUDED.current_load, satisfaction = EXCLUDED.satisfaction,
             active = true, updated_at = now()",
    )?;
    for agent in &roster.agents {
        let capacity = i32::try_from(agent.capacity).unwrap_or(i32::MAX);
        let load = i32::try_from(agent.load).unwrap_or(i32::MAX);
        let satisfaction = agent.satisfaction.map(|s| s.get());
        tx.execute(
            &upsert,
            &[
                &agent.id,
                &agent.name,
                &agent.skills,
                &agent.languages,
                &capacity,
                &load,
                &satisfaction,
            ],
        )?;
    }
    let ids: Vec<&str> = roster.agents.iter().map(|a| a.id.as_str()).collect();
    let deactivated = tx.execute(
        "UPDATE agents SET active = false, updated_at = now() WHERE active AND id <> ALL($1)",
        &[&ids],
    )?;
    tx.commit()?;
    Ok(AgentsReport {
        loaded: roster.agents.len() as u64,
        deactivated,
    })
}
