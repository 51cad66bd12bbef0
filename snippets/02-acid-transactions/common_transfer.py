"""The common answer's TransferMoney, translated line by line: an unknown receiver makes money vanish."""

import os

import psycopg
from psycopg import Connection
from psycopg.rows import TupleRow

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def common_transfer(conn: Connection[TupleRow], from_id: str, to_id: str, amount: float) -> None:
    with conn.transaction():
        cur = conn.execute(
            "UPDATE accounts SET balance = balance - %s WHERE id = %s AND balance >= %s", [amount, from_id, amount]
        )
        if cur.rowcount == 0:
            raise ValueError("insufficient funds")  # also what an unknown sender gets
        conn.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", [amount, to_id])
        # rowcount of the second UPDATE is never checked: 0 rows is "success"


def main() -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS accounts")
        conn.execute("CREATE TABLE accounts (id text PRIMARY KEY, balance numeric(12,2) NOT NULL)")
        conn.execute("INSERT INTO accounts VALUES ('alice', 100.00), ('bob', 50.00)")
        common_transfer(conn, "alice", "bobb", 30.0)  # a typo in the receiver's id
        print("Transfer successful")
        for row in conn.execute("SELECT id, balance FROM accounts ORDER BY id"):
            print(*row)
        total = conn.execute("SELECT sum(balance) FROM accounts").fetchone()
        print("total:", total[0] if total else None, "(was 150.00)")


if __name__ == "__main__":
    main()
