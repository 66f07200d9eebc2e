# Julia on a warm process: no start-up, no JIT wait for the common paths.
function primes_upto(n)
    sieve = trues(n)
    sieve[1] = false
    for i in 2:isqrt(n)
        sieve[i] && (sieve[i*i:i:n] .= false)
    end
    findall(sieve)
end

for n in (10, 100, 1000)
    println("primes up to $n: ", length(primes_upto(n)))
    sleep(0.3)
end

primes_upto(50)
