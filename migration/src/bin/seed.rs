//! `seed`: loads the demo catalogue into the database at `DATABASE_URL` (local stacks only).

use sea_orm_migration::sea_orm::{ConnectionTrait, Database};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL must be set")?;
    let db = Database::connect(url).await?;
    db.execute_unprepared(migration::SEED_SQL).await?;
    println!("seeded demo catalogue");
    Ok(())
}
